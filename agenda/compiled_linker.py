"""The linker compiled by mypyc, loaded only when it was built from exactly the current sources.

The linker's modules (``COMPILED``) are plain typed Python. `make demo`, `make test` and
`make bench` first run ``scripts/build_linker.py``, which compiles them with mypyc into
``.compiled/<digest>/`` in the checkout (gitignored); the linker then gives the same results,
faster (bench/bench_link.py). The digest covers every source mypyc reads for them (``COMPILED``
and the agenda modules they import, ``READ_BY_MYPYC``: mypyc builds their types and ``Final``
constants into the compiled code), this file (the recipe: modules, group, optimisation level),
the Python build and the mypy version.

Importing ``agenda`` puts ``CompiledLinkerFinder`` first on ``sys.meta_path``. The first time a
compiled module is imported it hashes those files (about 1 ms) and, if ``.compiled/<digest>/``
exists, loads every compiled module and mypyc's shared library from there; otherwise the pure
Python modules load from their .py files. An edit to any of those files therefore means pure
Python until the next build, never stale compiled code. ``AGENDA_PURE_PYTHON=1`` forces pure
Python. ``linker_kind()`` says which linker a process runs (bench_link.py, the test session and
``agenda status`` print it).

Compiled, the annotations of those modules are checked at run time (a wrong one raises TypeError
where Python would go on) and their functions and classes cannot be monkeypatched.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader, ModuleSpec
from importlib.util import find_spec, spec_from_file_location
from types import ModuleType

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
BUILD_ROOT = os.path.join(os.path.dirname(PACKAGE_DIR), ".compiled")

# keywords.py too: its dataclasses (Place, the rules) are read on every mention, and compiled
# they are native classes, whose attributes are read in C.
COMPILED = (
    "agenda.keywords",
    "agenda.link",
    "agenda.link_match",
    "agenda.link_result",
    "agenda.link_tokens",
    "agenda.placecontext",
    "agenda.risk",
    "agenda.textnorm",
)
# The other agenda modules mypyc reads to compile COMPILED: their imports, direct or not, and the
# packages around them (tests/test_compiled_linker.py checks the list). The compiled code depends
# on them: mypyc inlines their Final constants and reads their NamedTuples' fields by position.
READ_BY_MYPYC = (
    "agenda",
    "agenda.commitment_names",
    "agenda.common",
    "agenda.errors",
    "agenda.extract",
    "agenda.fetched",
    "agenda.fingerprint",
    "agenda.publication_dates",
    "agenda.register",
    "agenda.sources",
    "agenda.store",
    "agenda.store.base",
    "agenda.store.briefs",
    "agenda.store.chunks",
    "agenda.store.commitments",
    "agenda.store.inbox",
    "agenda.store.keeper",
    "agenda.store.schema",
    "agenda.store.stories",
    "agenda.stories",
    "agenda.topics",
    "agenda.yamlconf",
)
GROUP_NAME = "agenda_linker"  # mypyc's shared library, which holds the code of all of COMPILED
SHARED_LIBRARY = f"{GROUP_NAME}__mypyc"
OPT_LEVEL = "3"
DIGEST_CHARS = 20  # of the sha256 in hex: the name of a build's directory

PURE_PYTHON = "pure Python"
COMPILED_MYPYC = "compiled (mypyc)"


def source_file(module: str) -> str:
    """The .py file of an agenda module (a package's __init__.py)."""
    path = os.path.join(os.path.dirname(PACKAGE_DIR), *module.split("."))
    return path + ".py" if os.path.isfile(path + ".py") else os.path.join(path, "__init__.py")


def source_digest() -> str:
    """What a build must have been made from: the sources above, this file, Python and mypy."""
    import hashlib  # here: `import agenda` alone does not need it

    digest = hashlib.sha256()
    digest.update(f"{sys.version}\0{EXTENSION_SUFFIXES[0]}\0".encode())
    mypy = find_spec("mypy")  # its version file, not `import mypy` (10 ms)
    if mypy is None or not mypy.submodule_search_locations:
        digest.update(b"no mypy")
    else:
        with open(os.path.join(mypy.submodule_search_locations[0], "version.py"), "rb") as f:
            digest.update(f.read())
    for path in [__file__, *(source_file(m) for m in (*COMPILED, *READ_BY_MYPYC))]:
        with open(path, "rb") as f:
            digest.update(b"\0" + f.read())
    return digest.hexdigest()[:DIGEST_CHARS]


def extension_files(build_dir: str) -> dict[str, str]:
    """Module name -> extension file of the build in build_dir; empty when there is none."""
    files = {SHARED_LIBRARY: os.path.join(build_dir, SHARED_LIBRARY + EXTENSION_SUFFIXES[0])}
    for module in COMPILED:
        files[module] = os.path.join(build_dir, *module.split(".")) + EXTENSION_SUFFIXES[0]
    return files if all(os.path.isfile(f) for f in files.values()) else {}


class CompiledLinkerFinder:
    """Loads COMPILED from build_root/<digest>/ when that build exists, else from their .py files
    (never from an extension module that happens to lie beside one); decides once per process."""

    def __init__(self, build_root: str, pure: bool = False) -> None:
        self.build_root = build_root
        self._files: dict[str, str] | None = {} if pure else None

    def files(self) -> dict[str, str]:
        """The build's extension files by module name; empty: the pure modules load."""
        if self._files is None:
            self._files = extension_files(os.path.join(self.build_root, source_digest()))
        return self._files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        file: str | None
        if fullname in COMPILED:
            file = self.files().get(fullname, source_file(fullname))
        elif fullname == SHARED_LIBRARY:
            file = self.files().get(fullname)
        else:
            return None
        return None if file is None else spec_from_file_location(fullname, file)


def install() -> None:
    """Put the finder first on sys.meta_path (agenda/__init__.py); AGENDA_PURE_PYTHON=1: pure."""
    if not any(isinstance(finder, CompiledLinkerFinder) for finder in sys.meta_path):
        pure = os.environ.get("AGENDA_PURE_PYTHON") == "1"
        sys.meta_path.insert(0, CompiledLinkerFinder(BUILD_ROOT, pure))


def linker_kind() -> str:
    """COMPILED_MYPYC or PURE_PYTHON: what this process's linker modules are, or will be."""
    loaded = [sys.modules[m] for m in COMPILED if m in sys.modules]
    if loaded:
        compiled = {isinstance(m.__loader__, ExtensionFileLoader) for m in loaded}
        if len(compiled) > 1:
            raise RuntimeError("the linker's modules are a mix of compiled and pure Python")
        return COMPILED_MYPYC if compiled == {True} else PURE_PYTHON
    finders = [f for f in sys.meta_path if isinstance(f, CompiledLinkerFinder)]
    return COMPILED_MYPYC if finders and finders[0].files() else PURE_PYTHON
