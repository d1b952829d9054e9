"""Run every benchmark module (bench_*.py) in turn, or those named on the command line."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from benchmarks import readme


def main() -> None:
    names = sys.argv[1:] or sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    for name in names:
        module = importlib.import_module(f"benchmarks.{name.removesuffix('.py')}")
        module.main()
    readme.main()


if __name__ == "__main__":
    main()
