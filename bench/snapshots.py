"""Snapshots of a Django-sized working tree, through a real daemon, against plain git.

Method: a generated repository shaped like Django (6,500 files in 700 folders, ~45 MB of
source), committed; then a working state with 5 modified files, 1 staged change and 2
untracked files. The daemon takes ``devfactory/snapshots/create`` repeatedly (timed at the
client, so the request round trip is included); the baseline is the least plain git can do
for the same result, timed in the same session: copy the index, ``git add -A`` into the copy,
``git write-tree``, ``git commit-tree`` and ``git update-ref``. ``git status`` is shown for
reference. The three are interleaved, one of each per round, so a busy machine slows them
alike; medians of the rounds after the first (warm page cache, as in an editor).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.methods import Requests
from devfactory.protocol.snapshots import SnapshotCreateParams

from .common import GIT_ENV, git, median, ms, row

FILES = 6_500
FOLDERS = 700
REPEATS = 9
SETTINGS = {"index": {"enabled": False, "watch": False}}


def make_tree(root: Path) -> None:
    """Django-like: many small Python modules, some templates and locale files."""
    line = "    value = compute(value, factor)  # keeps the module a realistic size\n"
    for n in range(FILES):
        folder = root / f"pkg{n % FOLDERS // 50}" / f"mod{n % FOLDERS}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = (".py", ".py", ".py", ".html", ".po")[n % 5]
        body = f"# file {n}\n" + line * (40 + n % 120)
        (folder / f"file{n}{suffix}").write_text(body)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "django-sized tree")


def dirty(root: Path) -> None:
    """A few changed files: modified, staged, untracked."""
    tracked = sorted(root.glob("pkg*/mod1*/file*.py"))[:6]
    for path in tracked[:5]:
        path.write_text(path.read_text() + "# edited\n")
    tracked[5].write_text("# staged\n")
    git(root, "add", str(tracked[5]))
    (root / "pkg0" / "new_module.py").write_text("x = 1\n")
    (root / "notes.txt").write_text("todo\n")


def plain_git(root: Path, scratch: Path) -> float:
    """The plumbing a snapshot needs, with nothing around it; seconds."""
    started = time.perf_counter()
    shutil.copyfile(root / ".git" / "index", scratch)
    env = {**GIT_ENV, "GIT_INDEX_FILE": str(scratch)}

    def run(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    run("add", "-A", "--", ".")
    tree = run("write-tree")
    commit = run("commit-tree", tree, "-p", "HEAD", "-m", "baseline")
    run("update-ref", "refs/bench/baseline", commit)
    return time.perf_counter() - started


def git_status(root: Path) -> float:
    started = time.perf_counter()
    git(root, "status", "--porcelain")
    return time.perf_counter() - started


async def measure(root: Path, scratch: Path) -> dict[str, list[float]]:
    """Each round: a daemon snapshot, the plain-git baseline, ``git status``; seconds."""
    times: dict[str, list[float]] = {"ours": [], "plain": [], "status": []}
    async with DaemonClient.spawn(root, settings=SETTINGS) as client:
        for n in range(REPEATS + 1):
            started = time.perf_counter()
            await client.call(Requests.SNAPSHOTS_CREATE, SnapshotCreateParams(description=f"{n}"))
            times["ours"].append(time.perf_counter() - started)
            times["plain"].append(plain_git(root, scratch))
            times["status"].append(git_status(root))
    return {name: values[1:] for name, values in times.items()}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-snapshots-") as tmp:
        root = Path(tmp) / "django"
        root.mkdir()
        make_tree(root)
        dirty(root)
        size = sum(
            p.stat().st_size for p in root.rglob("*") if p.is_file() and ".git" not in p.parts
        )
        times = asyncio.run(measure(root, Path(tmp) / "scratch-index"))
        ours, plain, status = times["ours"], times["plain"], times["status"]
    print(
        f"{FILES} files, {size / 1e6:.0f} MB, 5 modified + 1 staged + 2 untracked; {os.cpu_count()} cores"
    )
    print(row("what", "median", "min", "max"))
    for name, values in (
        ("devfactory/snapshots/create (daemon, round trip)", ours),
        ("plain git: add -A + write-tree + commit-tree + update-ref", plain),
        ("git status --porcelain", status),
    ):
        print(row(name, ms(median(values)), ms(min(values)), ms(max(values))))
    print(f"ratio daemon / plain git: {median(ours) / median(plain):.2f}")


if __name__ == "__main__":
    main()
