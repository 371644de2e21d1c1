"""The linker compiled by mypyc loads only when built from the current sources, and gives the
same results as the pure Python linker (agenda/compiled_linker.py, scripts/build_linker.py).

`make test` builds it first; .ci/run sets AGENDA_REQUIRE_COMPILED=1, so there the in-process linker
must be the compiled one and the equivalence test compares compiled against pure Python.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from importlib.machinery import ExtensionFileLoader, SourceFileLoader
from pathlib import Path
from typing import Any

import pytest

from agenda import compiled_linker
from agenda.common import link_text
from agenda.compiled_linker import (
    BUILD_ROOT,
    COMPILED,
    COMPILED_MYPYC,
    PURE_PYTHON,
    READ_BY_MYPYC,
    SHARED_LIBRARY,
    CompiledLinkerFinder,
    extension_files,
    linker_kind,
    source_digest,
    source_file,
)
from agenda.link import Linker

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "scripts" / "build_linker.py"
REQUIRED = os.environ.get("AGENDA_REQUIRE_COMPILED") == "1"


def agenda_imports(module: str) -> set[str]:
    """The agenda modules a module imports anywhere in it, and the packages around them."""
    found = set()
    for node in ast.walk(ast.parse(Path(source_file(module)).read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.split(".")[0] == "agenda" and Path(source_file(name)).is_file():
                found.add(name)
    for name in [*found, module]:
        parts = name.split(".")
        found.update(".".join(parts[:end]) for end in range(1, len(parts)))
    return found


def test_the_digest_covers_every_agenda_module_mypyc_reads() -> None:
    read, todo = set(), list(COMPILED)
    while todo:
        module = todo.pop()
        if module not in read:
            read.add(module)
            todo += agenda_imports(module)
    listed = {*COMPILED, *READ_BY_MYPYC, "agenda.compiled_linker"}  # itself: hashed as the recipe
    assert read - listed == set(), "add these to READ_BY_MYPYC in agenda/compiled_linker.py"
    assert listed - read == set(), "remove these from READ_BY_MYPYC in agenda/compiled_linker.py"


def test_the_digest_changes_with_any_source_it_covers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "agenda"
    shutil.copytree(ROOT / "agenda", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(compiled_linker, "PACKAGE_DIR", str(package))
    digests = [source_digest()]
    for edited in ("placecontext.py", "keywords.py", "store/schema.py", "cli.py"):
        with open(package / edited, "a", encoding="utf-8") as source:
            source.write("\n# edited\n")
        digests.append(source_digest())
    assert len(set(digests[:4])) == 4  # a compiled module, a module they import, a package's
    assert digests[4] == digests[3]  # the CLI is not read by mypyc: no rebuild for it


def fake_build(build_dir: Path) -> dict[str, str]:
    """Empty files where a build's extension modules go (the finder looks, never loads)."""
    for module in (*COMPILED, SHARED_LIBRARY):
        package, _, name = module.rpartition(".")
        path = Path(build_dir, *package.split("."), name + compiled_linker.EXTENSION_SUFFIXES[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return extension_files(str(build_dir))


def loads_the_pure_modules(finder: CompiledLinkerFinder) -> bool:
    """Whether finder gives each compiled module's .py file, and no shared library."""
    specs = {name: finder.find_spec(name, None) for name in COMPILED}
    return finder.find_spec(SHARED_LIBRARY, None) is None and all(
        spec is not None
        and spec.origin == source_file(name)
        and isinstance(spec.loader, SourceFileLoader)
        for name, spec in specs.items()
    )


def test_no_build_or_a_stale_or_partial_one_means_the_pure_modules(tmp_path: Path) -> None:
    assert loads_the_pure_modules(CompiledLinkerFinder(str(tmp_path / "nothing")))
    fake_build(tmp_path / ("0" * compiled_linker.DIGEST_CHARS))  # the build of other sources
    finder = CompiledLinkerFinder(str(tmp_path))
    assert finder.files() == {} and loads_the_pure_modules(finder)
    partial = tmp_path / "partial"
    fake_build(partial / source_digest())
    next(partial.rglob("risk*")).unlink()
    assert loads_the_pure_modules(CompiledLinkerFinder(str(partial)))


def test_agenda_pure_python_means_the_pure_modules_beside_a_current_build(tmp_path: Path) -> None:
    fake_build(tmp_path / source_digest())
    assert loads_the_pure_modules(CompiledLinkerFinder(str(tmp_path), pure=True))


def test_the_build_for_the_current_sources_is_loaded(tmp_path: Path) -> None:
    files = fake_build(tmp_path / source_digest())
    finder = CompiledLinkerFinder(str(tmp_path))
    for name in (*COMPILED, SHARED_LIBRARY):
        spec = finder.find_spec(name, None)
        assert spec is not None and spec.origin == files[name]
        assert isinstance(spec.loader, ExtensionFileLoader)
    assert finder.find_spec("agenda.store", None) is None  # only the compiled modules
    assert finder.find_spec("agenda.commitment_names", None) is None


LOAD_LINKER_FROM = """
import sys
from agenda.compiled_linker import CompiledLinkerFinder, linker_kind

sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, CompiledLinkerFinder)]
sys.meta_path.insert(0, CompiledLinkerFinder(sys.argv[1]))
import agenda.link

print(linker_kind(), agenda.link.__file__, sep="\\n")
"""


def load_linker_from(build_root: Path) -> list[str]:
    """[linker_kind(), agenda.link's file] of a process whose finder looks in build_root."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD_LINKER_FROM, str(build_root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_a_process_loads_the_real_build_only_for_its_own_sources(tmp_path: Path) -> None:
    # The build `make test` made (required in CI), copied under another digest, then its own.
    built = extension_files(os.path.join(BUILD_ROOT, source_digest()))
    assert built or not REQUIRED
    stale = tmp_path / ("0" * compiled_linker.DIGEST_CHARS)
    if built:
        shutil.copytree(os.path.join(BUILD_ROOT, source_digest()), stale)
    else:
        fake_build(stale)
    assert load_linker_from(tmp_path) == [PURE_PYTHON, source_file("agenda.link")]
    if built:
        current = extension_files(str(stale.rename(tmp_path / source_digest())))
        assert load_linker_from(tmp_path) == [COMPILED_MYPYC, current["agenda.link"]]


def test_this_session_runs_the_build_there_is_for_its_sources() -> None:
    import agenda.link

    built = extension_files(os.path.join(BUILD_ROOT, source_digest()))
    if os.environ.get("AGENDA_PURE_PYTHON") == "1" or not built:
        assert linker_kind() == PURE_PYTHON
        assert agenda.link.__file__ == source_file("agenda.link")
    else:
        assert linker_kind() == COMPILED_MYPYC
        assert {m: sys.modules[m].__file__ for m in COMPILED} == {m: built[m] for m in COMPILED}
    if REQUIRED:
        assert linker_kind() == COMPILED_MYPYC, "AGENDA_REQUIRE_COMPILED=1 and no compiled linker"


def linked_gold(linker: Linker) -> list[Any]:
    """Every item of tests/gold/*.jsonl linked as the evaluation links it, without its source
    region, and its text alone: [file, line, variant, as_dict] each."""
    found: list[Any] = []
    for gold in sorted((ROOT / "tests" / "gold").glob("*.jsonl")):
        for number, line in enumerate(gold.read_text(encoding="utf-8").splitlines()):
            item = json.loads(line)
            joined = link_text(
                *(str(item[k]) if item.get(k) else None for k in ("title", "summary", "text"))
            )
            for variant, text, region in (
                ("joined", joined, item.get("source_region")),
                ("joined, no region", joined, None),
                ("text", item.get("text") or "", None),
            ):
                result = linker.link(text, source_region=region).as_dict()
                found.append([gold.name, number, variant, result])
    return found


PURE_LINKER = """
import json
from pathlib import Path
from agenda.compiled_linker import linker_kind
from agenda.keywords import load_keywords
from agenda.link import Linker
from tests.test_compiled_linker import linked_gold

print(linker_kind())
print(json.dumps(linked_gold(Linker(load_keywords(Path("keywords")))), ensure_ascii=False))
"""


def test_the_linker_of_this_session_links_the_gold_items_as_pure_python_does(
    linker: Linker,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PURE_LINKER],
        cwd=ROOT,
        env={**os.environ, "AGENDA_PURE_PYTHON": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    kind, results = done.stdout.split("\n", 1)
    assert kind == PURE_PYTHON
    pure = json.loads(results)
    here = json.loads(json.dumps(linked_gold(linker), ensure_ascii=False))
    assert len(here) == len(pure) > 2500
    assert [h[:3] for h, p in zip(here, pure, strict=True) if h != p] == []


def run_build(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), *args],
        env={**os.environ, "AGENDA_PURE_PYTHON": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_machine_without_a_compiler_gets_one_line_and_pure_python(tmp_path: Path) -> None:
    done = run_build("--into", str(tmp_path), CC="no-such-cc", AGENDA_REQUIRE_COMPILED="0")
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "compiled linker: not built: no C compiler (no-such-cc not found);"
        " the linker runs as pure Python"
    ]
    assert not list(tmp_path.glob("*/agenda"))


def test_a_failed_build_is_an_error_when_the_compiled_linker_is_required(tmp_path: Path) -> None:
    done = run_build("--into", str(tmp_path), CC="no-such-cc", AGENDA_REQUIRE_COMPILED="1")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "compiled linker: not built: no C compiler (no-such-cc not found);"
        " AGENDA_REQUIRE_COMPILED=1, so that is an error"
    ]


def test_the_build_is_a_no_op_when_the_current_sources_are_built(tmp_path: Path) -> None:
    fake_build(tmp_path / source_digest())
    done = run_build("--into", str(tmp_path), CC="no-such-cc")  # it would fail if it built
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == f"compiled linker: up to date ({tmp_path / source_digest()})\n"


def test_the_build_builds_nothing_when_pure_python_is_forced(tmp_path: Path) -> None:
    done = run_build("--into", str(tmp_path), AGENDA_PURE_PYTHON="1")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == "compiled linker: not built (AGENDA_PURE_PYTHON=1)\n"
    assert list(tmp_path.iterdir()) == []
