"""kill -9 of the daemon in the middle of runs, then a new daemon on the same workspace: no run
claims to be running, the stranded ones failed with a reason naming the dead daemon, queued
runs were kept (and now run), and worktrees and events are intact."""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.enums import EventType, HitlStatus, RunStatus
from devfactory.protocol.hitl import HitlList, HitlListParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunIdParams
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    kill_9,
    kinds,
    replay,
    start_daemon,
    stop_daemon,
    turn,
    wait_event,
    wait_finished,
    wait_status,
    write_script,
)
from support import make_git_repo

S = RunStatus
OPTIONS = {**RUN_OPTIONS, "maxConcurrentRuns": 2}


async def test_kill_9_mid_run_then_restart(tmp_path: Path):
    workspace = make_git_repo(
        tmp_path / "project", {"calc.py": "def add(a, b):\n    return a - b\n"}
    )
    edit = call("edit_file", path="calc.py", search="a - b", replace="a + b")
    working = write_script(
        tmp_path, "working", [turn("1. Fix"), turn("", edit), turn("Thinking", delay_s=600)]
    )
    asking = write_script(
        tmp_path, "asking", [turn("1. Ask"), turn("", call("ask_user", question="Sure?"))]
    )
    later = write_script(tmp_path, "later", [turn("1. Later"), finish("done later")])

    first = await start_daemon(workspace, OPTIONS)
    try:
        running = await create_run(first, working)
        await wait_event(first, running.id, EventType.FILE_UPDATED)
        waiting = await create_run(first, asking)
        await wait_status(first, waiting.id, S.WAITING_FOR_USER)
        queued = await create_run(first, later)
        assert queued.status is S.QUEUED
        before = {run.id: await replay(first, run.id) for run in (running, waiting, queued)}
    finally:
        pid = await kill_9(first)

    second = await start_daemon(workspace, OPTIONS)
    try:
        for run, was in ((running, "running"), (waiting, "waiting_for_user")):
            failed: Run = await second.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
            assert failed.status is S.FAILED
            assert failed.failed_reason == (
                f"the DevFactory daemon (pid {pid}) stopped while the run was {was}; "
                "its worktree and events are kept — retry to continue"
            )
            events = await replay(second, run.id)
            assert events[: len(before[run.id])] == before[run.id], "events are intact"
            assert kinds(events[len(before[run.id]) :]) == ["status:failed"]
        worktree = workspace / ".devfactory" / "worktrees" / f"run-{running.id}"
        assert (worktree / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        questions: HitlList = await second.call(
            Requests.HITL_LIST, HitlListParams(run_id=waiting.id, status=None)
        )
        assert [q.status for q in questions.requests] == [HitlStatus.CANCELLED]

        # The queued run survived the crash and the new daemon runs it.
        done = await wait_finished(second, queued.id)
        assert done.status is S.COMPLETED, done.failed_reason
        events = await replay(second, queued.id)
        assert events[: len(before[queued.id])] == before[queued.id]
        assert kinds(events)[:2] == ["status:queued", "status:running"]
        assert not any(
            n.run.status is S.RUNNING and n.run.id != queued.id
            for n in second.notes.received[Notifications.RUN_CHANGED]
        )
        daemons = sorted(p.name for p in (workspace / ".devfactory" / "daemons").iterdir())
        assert len(daemons) == 1, f"the dead daemon's lock file is cleared: {daemons}"
    finally:
        await stop_daemon(second)
