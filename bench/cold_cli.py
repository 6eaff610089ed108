"""Cold ``devfactory index --no-embed`` as a user runs it, against a baseline installation.

Method: the Django 5.2.8 trees of ``index_search`` (1x and 4x copies, gitignored under
``bench/.corpus``); before each run the workspace's ``.devfactory`` folder is removed (a cold
index); this installation's ``devfactory`` and the baseline's alternate, run by run, so both
see the same load from whatever else shares the machine. Each run's wall time, CPU time of the
whole process tree (user + sys of the CLI, its daemon and the daemon's worker processes) and
the 1-minute load average when it started are kept (ripgrep reads the tree first, so no run
reads from the disk); the report gives medians and the ratio of this installation to the
baseline.

Run: ``uv run python -m bench.cold_cli [--baseline PATH] [--scale 1 4] [--runs 3]``; the
baseline is another installation's ``devfactory`` script (``DEVFACTORY_BASELINE``), e.g. main's
in its own venv. Without one, only this installation is measured. Results go to
``bench/.results/cold_cli.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import median, row
from .index_search import RESULTS, ripgrep_seconds, scaled_tree

THIS = str(Path(sys.executable).with_name("devfactory"))


def cold_run(devfactory: str, root: Path) -> dict[str, float]:
    """One cold ``devfactory index --no-embed`` of ``root``: wall, CPU of the tree, load."""
    shutil.rmtree(root / ".devfactory", ignore_errors=True)
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [devfactory, "index", "--no-embed", str(root)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "load": load}


def measure(installs: dict[str, str], scales: list[int], runs: int) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for scale in scales:
        root = scaled_tree(scale)
        ripgrep_seconds(root)  # every file in the page cache: the first run pays no disk reads
        results: dict[str, list[dict[str, float]]] = {name: [] for name in installs}
        for _ in range(runs):
            for name, devfactory in installs.items():
                results[name].append(cold_run(devfactory, root))
                print(f"{scale}x {name}: {results[name][-1]}", file=sys.stderr)
        report[f"{scale}x"] = results
    return report


def print_markdown(report: dict[str, Any]) -> None:
    print(row("corpus", "install", "wall: median (runs)", "CPU: median (runs)", "load at start"))
    print(row(*["---"] * 5))
    for corpus, results in report.items():
        for name, runs in results.items():
            walls = [r["wall"] for r in runs]
            cpus = [r["cpu"] for r in runs]
            print(
                row(
                    corpus,
                    name,
                    f"{median(walls):.1f} s ({', '.join(f'{w:.1f}' for w in walls)})",
                    f"{median(cpus):.1f} s ({', '.join(f'{c:.1f}' for c in cpus)})",
                    ", ".join(f"{r['load']:.1f}" for r in runs),
                )
            )
        if {"this", "baseline"} <= results.keys():
            ratio = {
                key: median([r[key] for r in results["this"]])
                / median([r[key] for r in results["baseline"]])
                for key in ("wall", "cpu")
            }
            print(row(corpus, "ratio", f"{ratio['wall']:.2f}", f"{ratio['cpu']:.2f}", ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_cli")
    parser.add_argument("--baseline", default=os.environ.get("DEVFACTORY_BASELINE"))
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    installs = {"this": THIS}
    if args.baseline:
        installs["baseline"] = args.baseline
    report = measure(installs, args.scale, args.runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_cli.json").write_text(json.dumps(report, indent=2))
    print_markdown(report)


if __name__ == "__main__":
    main(sys.argv[1:])
