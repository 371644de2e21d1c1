#!/usr/bin/env python3
"""Compile the linker with mypyc into .compiled/<digest>/ (see agenda/compiled_linker.py).

    python scripts/build_linker.py              # what `make demo`, `make test`, `make bench` run

A quick no-op when the build for the current sources exists. Otherwise it compiles into a
temporary directory beside the builds (mypyc, then the C compiler: about a minute of CPU) and
renames it to .compiled/<digest>/, so a build is there whole or not at all, then removes the
builds of other digests. One build at a time (a lock file); the compiler's output goes to
.compiled/build.log.

With AGENDA_PURE_PYTHON=1 it builds nothing: the processes it is set for run pure Python anyway
(`AGENDA_PURE_PYTHON=1 make test` while editing the linker). When the build cannot be made (no C
compiler, no Python headers, no mypy, a compile error) it prints one line saying what failed and
exits 0: the linker runs as pure Python. With AGENDA_REQUIRE_COMPILED=1 (.ci/run sets it) that
is an error, exit 1.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agenda import compiled_linker  # noqa: E402

TEMPORARY_PREFIX = "building-"


def missing_tool() -> str | None:
    """What the build needs and this machine lacks, said for a person; None when all is there."""
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    if shutil.which(shlex.split(compiler)[0]) is None:
        return f"no C compiler ({shlex.split(compiler)[0]} not found)"
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.is_file():
        return f"no Python headers ({headers} not found)"
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "no mypyc (mypy is not installed: pip install -e '.[dev]')"
    return None


def is_digest(name: str) -> bool:
    return len(name) == compiled_linker.DIGEST_CHARS and all(c in "0123456789abcdef" for c in name)


def compile_into(out: Path) -> None:
    """Run mypyc and the C compiler (called in a child process whose output is the log)."""
    from mypyc.build import mypycify
    from setuptools import setup

    extensions = mypycify(
        [compiled_linker.source_file(module) for module in compiled_linker.COMPILED]
        + ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(out / "mypy_cache")],
        opt_level=compiled_linker.OPT_LEVEL,
        group_name=compiled_linker.GROUP_NAME,
        target_dir=str(out / "c"),
    )
    setup(
        name="agenda-linker",
        ext_modules=extensions,
        script_args=["build_ext", f"--build-lib={out / 'lib'}", f"--build-temp={out / 'obj'}"],
    )


def build(root: Path) -> str | None:
    """Make root/<digest>/ for the current sources unless it exists; None, or what failed."""
    root.mkdir(exist_ok=True)
    digest = compiled_linker.source_digest()
    target = root / digest
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a build started elsewhere finishes first
        if compiled_linker.extension_files(str(target)):
            print(f"compiled linker: up to date ({target})")
            return None
        missing = missing_tool()
        if missing:
            return missing
        for entry in root.glob(TEMPORARY_PREFIX + "*"):  # left by a build that was killed
            shutil.rmtree(entry)
        log_path = root / "build.log"
        started = time.monotonic()
        print(f"compiled linker: compiling with mypyc into {target} (about a minute)", flush=True)
        with tempfile.TemporaryDirectory(prefix=TEMPORARY_PREFIX, dir=root) as temporary:
            out = Path(temporary)
            with open(log_path, "w") as log:
                done = subprocess.run(
                    [sys.executable, __file__, "--compile-into", str(out)],
                    cwd=out,  # setuptools reads the configuration files where it runs
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if done.returncode != 0:
                return f"mypyc or the C compiler failed (log: {log_path})"
            if compiled_linker.source_digest() != digest:
                return "the sources changed during the build; run it again"
            if not compiled_linker.extension_files(str(out / "lib")):
                return f"the build is missing files (log: {log_path})"
            (out / "lib").rename(target)
        for entry in root.iterdir():
            if is_digest(entry.name) and entry != target:
                shutil.rmtree(entry)  # the build of other sources: never loaded again
        print(f"compiled linker: built in {time.monotonic() - started:.0f} s")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--into",
        type=Path,
        default=Path(compiled_linker.BUILD_ROOT),
        help="the builds' directory (default: .compiled in the checkout, where agenda looks)",
    )
    parser.add_argument("--compile-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compile_into:
        compile_into(args.compile_into)
        return 0
    if os.environ.get("AGENDA_PURE_PYTHON") == "1":
        print("compiled linker: not built (AGENDA_PURE_PYTHON=1)")
        return 0
    try:
        failed = build(args.into.resolve())
    except OSError as error:
        failed = f"{error}"
    if failed is None:
        return 0
    required = os.environ.get("AGENDA_REQUIRE_COMPILED") == "1"
    outcome = (
        "AGENDA_REQUIRE_COMPILED=1, so that is an error"
        if required
        else "the linker runs as pure Python"
    )
    print(f"compiled linker: not built: {failed}; {outcome}", file=sys.stderr)
    return 1 if required else 0


if __name__ == "__main__":
    sys.exit(main())
