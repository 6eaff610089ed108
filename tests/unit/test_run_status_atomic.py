"""A run's status and the event that records it are one write: a process killed between the
two leaves both or neither, for a status change and for the creation of a run alike.

The child process writes through the real store (the SQLite adapter) and is killed (``os._exit``, no clean-up, as
``kill -9`` would) on the writer thread right after the run's row is written and before its
event is; the parent then opens the database as the next daemon would.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest

from devfactory.storage import open_store

CHILD = textwrap.dedent(
    """
    import asyncio, os, sys

    from devfactory.protocol.enums import EventType, RunStatus, Severity
    from devfactory.protocol.runs import RunMetadata
    from devfactory.storage import open_store
    from devfactory.storage.ports import NewEvent, NewRun

    async def main(path: str, kill_during: str) -> None:
        store = await open_store(path)
        project = await store.projects.register(
            root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
        )

        def event(status: RunStatus, run_id: int | None = None) -> NewEvent:
            return NewEvent(
                project.id, run_id, EventType.RUN_STATUS_CHANGED, Severity.INFO,
                f"Run {status.value}", "", {"toStatus": status.value}, "t",
            )

        new = NewRun(
            project.id, "r", "p", RunStatus.QUEUED, "backend", "scripted", None, "review",
            RunMetadata(),
        )
        run, _ = await store.runs.create_recorded(
            new, branch=lambda i: f"agent/run-{i}", event=event(RunStatus.QUEUED)
        )
        runs = sys.modules[type(store.runs).__module__]
        if kill_during != "nothing":
            def killed(*args, **kwargs):
                os._exit(9)  # the row is written, its event is not: the process dies here
            runs.insert_events = killed
        if kill_during in ("transition", "nothing"):
            await store.runs.transition(
                run.id, expect_status=RunStatus.QUEUED, event=event(RunStatus.RUNNING, run.id),
                status=RunStatus.RUNNING,
            )
        if kill_during in ("creation", "nothing"):
            await store.runs.create_recorded(
                new, branch=lambda i: f"agent/run-{i}", event=event(RunStatus.QUEUED)
            )
        await store.close()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def runs_and_status_events(path: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """What the next daemon finds, read through the ports: each run's status, oldest first, and
    the status each ``run_status_changed`` event records."""
    store = await open_store(path)
    try:
        project = await store.projects.by_root("/w")
        assert project is not None
        runs = await store.runs.list(project.id)
        events = await store.events.list(project.id)
    finally:
        await store.close()
    return (
        [(run.id, run.status.value) for run in reversed(runs)],
        [(event.run_id or 0, event.payload["toStatus"]) for event in events],
    )


@pytest.mark.parametrize(
    ("kill_during", "exit_code", "runs", "events"),
    [
        ("transition", 9, [(1, "queued")], [(1, "queued")]),
        ("creation", 9, [(1, "queued")], [(1, "queued")]),
        (  # the same writes, not killed: both of each are there
            "nothing",
            0,
            [(1, "running"), (2, "queued")],
            [(1, "queued"), (1, "running"), (2, "queued")],
        ),
    ],
)
async def test_a_kill_between_a_runs_row_and_its_event_leaves_both_or_neither(
    tmp_path: Path, kill_during: str, exit_code: int, runs: list, events: list
):
    path = tmp_path / "devfactory.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(path), kill_during, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == exit_code, stderr.decode()
    assert await runs_and_status_events(path) == (runs, events)
