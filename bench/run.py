#!/usr/bin/env python3
"""`make bench`: run every bench/bench_*.py in turn, each as its own process, and show its output.

Benchmarks report ratios measured within one run (these machines are shared and noisy), never
absolute seconds alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    only = set(sys.argv[1:])
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem.removeprefix("bench_") not in only:
            continue
        print(f"== {script.name}", flush=True)
        done = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        status = status or done.returncode
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
