"""``python -m bench.retrieval mine|run|report``: the file-localization benchmark.

    mine    tasks from repositories fetched onto this machine (``fetch github:owner/name``)
    run     every ranking on every task; tables on stdout, everything in a JSON file
    report  the tables of an earlier run again
    analyze what fills each ranking's top files, and where the answers went

Task files, checkouts and indexes live under ``~/.cache/devfactory/retrieval`` (or the folders
given): fetched code never enters this repository.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .devfactory_index import CHUNKS, MODES
from .messages import MAX_QUERY_CHARS
from .metrics import summarize
from .mining import MAX_ANSWERS, MIN_SUBJECT_WORDS, mine, read_tasks, write_tasks
from .report import markdown
from .runner import BASELINES, RunOptions, ranking_names, run

CACHE = Path.home() / ".cache" / "devfactory" / "retrieval"
MIRRORS = Path("/work/.mirror")
ALL_MODES = (*BASELINES, *MODES)


def mirror_of(repo: str, mirrors: Path) -> Path:
    """Where ``fetch github:owner/name`` put the repository's git directory."""
    git_dir = mirrors / repo.replace("/", "+") / "repo"
    if not (git_dir / "HEAD").is_file():
        raise SystemExit(f"{repo}: no git directory at {git_dir}; fetch github:{repo} first")
    return git_dir


def command_mine(args: argparse.Namespace) -> None:
    mined = []
    for spec in args.repos.split(","):
        repo, _, rev = spec.strip().partition("@")
        started = time.perf_counter()
        result = mine(
            repo,
            mirror_of(repo, args.mirrors),
            rev or "HEAD",
            args.per_repo,
            held_out=args.held_out,
        )
        summary = result.summary()
        print(
            f"{repo}: {summary['tasks']} tasks from {summary['commits_scanned']} commits"
            f" ({summary['oldest']} .. {summary['newest']}, head {summary['head'][:12]})"
            f" in {time.perf_counter() - started:.1f} s; skipped {summary['skipped']}",
            flush=True,
        )
        mined.append(result)
    rules = {
        "per_repo": args.per_repo,
        "max_answers": MAX_ANSWERS,
        "min_subject_words": MIN_SUBJECT_WORDS,
        "max_query_chars": MAX_QUERY_CHARS,
        "held_out": args.held_out,
    }
    out = args.out or CACHE / ("held-out" if args.held_out else "tasks")
    print(f"tasks written to {write_tasks(out, mined, rules)}")


def command_run(args: argparse.Namespace) -> None:
    tasks, manifest = read_tasks(args.tasks)
    modes = [mode.strip() for mode in args.modes.split(",")]
    unknown = sorted(set(modes) - set(ALL_MODES))
    if unknown:
        raise SystemExit(
            f"--modes: unknown {', '.join(unknown)}; choose from {', '.join(ALL_MODES)}"
        )
    repos = [entry["repo"] for entry in manifest["repos"]]
    if args.repos:
        repos = [repo for repo in repos if repo in args.repos.split(",")]
    git_dirs = {repo: mirror_of(repo, args.mirrors) for repo in repos}
    if args.limit:
        by_repo: dict[str, list[Any]] = {}
        for task in sorted(tasks, key=lambda task: task.date, reverse=True):
            by_repo.setdefault(task.repo, []).append(task)
        tasks = [task for chosen in by_repo.values() for task in chosen[: args.limit]]
    options = RunOptions(
        work=args.work,
        modes=modes,
        query=args.query,
        index=args.index,
        fresh_check=not args.no_fresh_check,
        chunks=args.chunks,
        indexes=args.keep_indexes or args.reuse_indexes,
        reuse=args.reuse_indexes is not None,
    )
    if options.reuse and args.index != "fresh":
        raise SystemExit("--reuse-indexes: kept indexes are per task; leave --index fresh")
    environment = _environment()
    started = time.perf_counter()
    outcome = run(tasks, git_dirs, options)
    environment["seconds"] = time.perf_counter() - started
    environment["load_average_after"] = os.getloadavg()
    report = {
        "environment": environment,
        "options": {
            "modes": modes,
            "query": args.query,
            "index": args.index,
            "chunks": args.chunks,
            "limit": args.limit,
        },
        "manifest": manifest,
        "summary": summarize(outcome["results"], ranking_names(modes)),
        **outcome,
    }
    results = args.results or args.tasks / f"results-{args.query}-{args.index}.json"
    results.write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    print(markdown(report))
    print(
        f"\n{len(outcome['results'])} tasks in {environment['seconds']:.0f} s; results in {results}"
    )


def command_report(args: argparse.Namespace) -> None:
    print(markdown(json.loads(args.results.read_text("utf-8"))))


def command_analyze(args: argparse.Namespace) -> None:
    from .analysis import analysis

    print(analysis(json.loads(args.results.read_text("utf-8"))))


def _environment() -> dict[str, Any]:
    import bm25s

    here = Path(__file__).resolve().parent
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "devfactory_commit": commit,
        "python": platform.python_version(),
        "bm25s": bm25s.__version__,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m bench.retrieval", description=__doc__.split("\n")[0]
    )
    commands = top.add_subparsers(dest="command", required=True)

    mine_cmd = commands.add_parser("mine", help="mine tasks from fetched repositories")
    mine_cmd.add_argument(
        "--repos", required=True, help="owner/name[@rev],... (rev defaults to the snapshot's HEAD)"
    )
    mine_cmd.add_argument("--per-repo", type=int, default=50, help="tasks per repository (50)")
    mine_cmd.add_argument(
        "--out", type=Path, help="folder for the tasks (tasks/, or held-out/ with --held-out)"
    )
    mine_cmd.add_argument(
        "--held-out",
        action="store_true",
        help="the independent check: only pallets/*, psf/*, pytest-dev/* (kept out of tuning)",
    )
    mine_cmd.add_argument("--mirrors", type=Path, default=MIRRORS, help="where fetch puts git dirs")
    mine_cmd.set_defaults(handler=command_mine)

    run_cmd = commands.add_parser("run", help="rank every task with every mode")
    run_cmd.add_argument("--tasks", type=Path, default=CACHE / "tasks", help="folder from mine")
    run_cmd.add_argument("--modes", default=",".join(ALL_MODES), help="comma-separated rankings")
    run_cmd.add_argument(
        "--limit", type=int, default=0, help="at most N newest tasks per repository"
    )
    run_cmd.add_argument("--repos", default="", help="only these owner/name,... of the manifest")
    run_cmd.add_argument(
        "--query",
        choices=("query", "subject"),
        default="query",
        help="the cleaned message, or its first line",
    )
    run_cmd.add_argument("--work", type=Path, default=CACHE / "work", help="checkouts and indexes")
    run_cmd.add_argument(
        "--index",
        choices=("fresh", "incremental"),
        default="fresh",
        help="DevFactory: a new index per task (exact), or one per repository moved along",
    )
    run_cmd.add_argument(
        "--chunks",
        type=int,
        default=CHUNKS,
        help=f"DevFactory files per query ({CHUNKS}; group_by file, each with its best chunk)",
    )
    run_cmd.add_argument(
        "--results", type=Path, help="JSON output (TASKS/results-QUERY-INDEX.json)"
    )
    run_cmd.add_argument("--mirrors", type=Path, default=MIRRORS, help="where fetch puts git dirs")
    kept = run_cmd.add_mutually_exclusive_group()
    kept.add_argument(
        "--keep-indexes",
        type=Path,
        help="keep each task's finished DevFactory index in this folder (TASK.sqlite)",
    )
    kept.add_argument(
        "--reuse-indexes",
        type=Path,
        help="search the indexes kept by an earlier --keep-indexes run instead of indexing "
        "(for ranking changes; index changes need new indexes)",
    )
    run_cmd.add_argument(
        "--no-fresh-check",
        action="store_true",
        help="with --index incremental: do not re-answer each repository's last task from a "
        "fresh index",
    )
    run_cmd.set_defaults(handler=command_run)

    report_cmd = commands.add_parser("report", help="print the tables of an earlier run")
    report_cmd.add_argument("results", type=Path, help="a results JSON file")
    report_cmd.set_defaults(handler=command_report)

    analyze_cmd = commands.add_parser("analyze", help="what fills the top files, per mode")
    analyze_cmd.add_argument("results", type=Path, help="a results JSON file")
    analyze_cmd.set_defaults(handler=command_analyze)
    return top


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)  # a library may have lowered it on import
    arguments = parser().parse_args(sys.argv[1:])
    arguments.handler(arguments)
