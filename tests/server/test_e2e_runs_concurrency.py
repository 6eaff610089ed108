"""Four scripted runs at once on one workspace, two slots: first in first out, never more
than two live, every run isolated in its worktree, and not one event lost, duplicated or
reordered between the database and the client."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.methods import Notifications
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    kinds,
    live_events,
    replay,
    shared_daemon,
    turn,
    wait_finished,
    write_script,
)
from support import DaemonClient, git, make_git_repo

pytestmark = pytest.mark.asyncio(loop_scope="module")

RUNS = 4
SLOTS = 2
CALC = "def add(a, b):\n    return a - b\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("concurrency") / "project", {"calc.py": CALC})


daemon = shared_daemon({**RUN_OPTIONS, "maxConcurrentRuns": SLOTS})


def script_for(folder: Path, n: int) -> Path:
    steps = [
        turn("", call("read_file", path="calc.py"), delay_s=0.05),
        turn(f"Run {n} edits.", call("edit_file", path="calc.py", search="a - b", replace=f"{n}")),
        turn("", call("write_file", path=f"notes/run{n}.md", content=f"run {n}\n"), delay_s=0.05),
        turn("", call("read_file", path=f"notes/run{n}.md")),
    ]
    return write_script(folder, f"run{n}", [turn(f"1. Run {n}"), *steps, finish(f"run {n}")])


async def test_four_runs_share_two_slots_in_order_with_every_event_delivered_once(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    runs = [await create_run(daemon, script_for(tmp_path, n), prompt=f"Task {n}") for n in range(4)]
    ids = [run.id for run in runs]
    finished = [await wait_finished(daemon, run_id, timeout=60) for run_id in ids]
    assert [run.status for run in finished] == [RunStatus.COMPLETED] * RUNS, [
        run.failed_reason for run in finished
    ]

    everything = await replay(daemon)
    status_changes = [e for e in everything if e.type is EventType.RUN_STATUS_CHANGED]
    started = [e.run_id for e in status_changes if e.payload["toStatus"] == "running"]
    assert started == ids, "queued runs start first in first out"
    live: set[int] = set()
    most = 0
    for event in status_changes:
        if event.payload["toStatus"] in ("running", "paused", "waiting_for_user"):
            live.add(event.run_id or 0)
        else:
            live.discard(event.run_id or 0)
        most = max(most, len(live))
    assert most == SLOTS, "the scheduler keeps every slot busy and never more"

    delivered = live_events(daemon)
    assert delivered == everything, "the client got exactly the persisted events, in order"
    assert [e.id for e in delivered] == sorted({e.id for e in delivered})
    expected = [
        "status:queued",
        "status:running",
        "snapshot_created",
        "git_branch_created",
        "user_prompt",
        "rag_search_started",
        "rag_search_completed",
        "ai_context_loaded",
        "ai_plan_created",
        "file_read",
        "ai_message",
        "file_updated",
        "checkpoint_created",
        "file_created",
        "checkpoint_created",
        "file_read",
        "git_status_checked",
        "git_diff_created",
        "snapshot_created",
        "final_summary",
        "status:completed",
    ]
    for run_id in ids:
        own = [e for e in everything if e.run_id == run_id]
        assert [k for k in kinds(own) if k not in ("change_proposed", "docs_updated")] == expected

    for n, run in enumerate(finished):
        worktree = Path(run.worktree_path or "")
        assert (worktree / "calc.py").read_text() == CALC.replace("a - b", str(n))
        assert sorted(p.name for p in (worktree / "notes").iterdir()) == [f"run{n}.md"]
    assert (workspace / "calc.py").read_text() == CALC
    assert len({run.branch_name for run in finished}) == RUNS
    branches = git(workspace, "for-each-ref", "--format=%(refname:short)", "refs/heads/agent")
    assert sorted(branches.split()) == sorted(run.branch_name or "" for run in finished)

    streamed = "".join(
        n.delta for n in daemon.notes.received[Notifications.STREAM] if n.run_id == ids[2]
    )
    assert "Run 2 edits." in streamed
