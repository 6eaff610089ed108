"""``python -m bench [NAME...]``: run every benchmark module (or the named ones)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

HELPERS = {"common"}
"""Modules of this package that are not benchmarks."""


def benchmarks() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(folder)])
        if m.name not in HELPERS
        and not m.name.startswith("_")
        and hasattr(importlib.import_module(f"bench.{m.name}"), "main")
    )


def main(names: list[str]) -> None:
    known = benchmarks()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(known)}")
    for name in names or known:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
