"""Team workers on a real PostgreSQL: a run started in an editor's daemon executes on one of
two ``devfactory worker`` processes; that worker is killed with SIGKILL mid-run, the other
takes the run over (stalled job retried, lease expired, epoch 2) and finishes it; the run's
events replay without a gap or a duplicate and match what the editor saw live; a writer with
the old epoch is refused; and the change the worker proposed is approved from the editor's
daemon, in another clone, and applied there. A run taken over by a worker on another clone
goes on from a worktree made again there (its base tree and what it proposed), or fails
saying what that clone lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli_support import CALC, DEVFACTORY, cli_env
from devfactory.protocol.changes import ChangeDecisionResult, ChangeDiff, ChangeList
from devfactory.protocol.enums import ChangeStatus, EventType, HitlAction, RunStatus, Severity
from devfactory.protocol.hitl import HitlList, HitlRespondParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import RunDirectiveParams, RunIdParams
from devfactory.storage import LeaseLost
from devfactory.storage.ports import NewEvent
from postgresql_support import postgres_server
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    kinds,
    live_events,
    replay,
    start_daemon,
    stop_daemon,
    turn,
    write_script,
)
from support import DaemonClient, make_git_repo
from team_support import poll, stop_lease_holder, team_clone, team_origin, workers

pytest.importorskip("psycopg", reason="psycopg is not installed")

from devfactory.storage.postgresql import PostgresStore

FIXED = "def add(a, b):\n    return a + b\n"


@dataclass
class Team:
    """A team's database, a worker machine's clone and a laptop's clone with its daemon."""

    store: PostgresStore
    machine: Path
    laptop: Path
    editor: DaemonClient


@contextlib.asynccontextmanager
async def team_of(tmp_path: Path) -> AsyncIterator[Team]:
    url = postgres_server().new_database()
    origin = team_origin(tmp_path / "origin", url)
    machine = team_clone(origin, tmp_path / "worker-machine")
    laptop = team_clone(origin, tmp_path / "laptop")
    store = await PostgresStore.open(url)
    editor = await start_daemon(laptop, RUN_OPTIONS)
    try:
        yield Team(store, machine, laptop, editor)
    finally:
        await stop_daemon(editor)
        await store.close()


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
async def test_a_stopped_workers_run_finishes_on_another_and_applies_in_another_clone(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """SIGKILL: its heartbeat stops, its job is retried as stalled once its lease expired.
    SIGTERM: it stops the segment after a grace period and hands the run back to the queue."""
    gate = tmp_path / "go-on"
    script = write_script(
        tmp_path / "scripts",
        "fix",
        [
            turn("1. Fix add()"),
            turn("", call("write_file", path="calc.py", content=FIXED)),
            turn("Checking the fix", wait_for_file=gate),
            finish("Fixed add()."),
        ],
    )
    async with team_of(tmp_path) as team:
        store, editor, machine, laptop = team.store, team.editor, team.machine, team.laptop
        with workers(machine, tmp_path, 2) as processes:
            run = await create_run(editor, script)
            assert run.status is RunStatus.QUEUED, "the daemon hands it to the workers"

            # The run works on a worker, which proposed its change and now waits on the gate.
            held, victim = await stop_lease_holder(store, run.id, processes, stop)
            assert held["lease_epoch"] == 1 and held["status"] == "running"
            gate.touch()

            finished = await poll(
                store,
                "SELECT lease_epoch, owner FROM agent_runs WHERE id = %s AND status = 'completed'",
                (run.id,),
            )
            survivor = next(p.pid for p in processes if p.pid != victim)
            assert finished["lease_epoch"] >= 2
            assert str(finished["owner"]).endswith(f":{survivor}")

        # One run, numbered 1..n per run, each event once, as the editor saw them live.
        seqs = await store.db.fetchall(
            "SELECT run_seq FROM agent_events WHERE run_id = %s ORDER BY id", (run.id,)
        )
        assert [r["run_seq"] for r in seqs] == list(range(1, len(seqs) + 1))
        replayed = await replay(editor, run.id)
        ids = [e.id for e in replayed]
        assert ids == sorted(set(ids)) and len(ids) == len(seqs)
        for _ in range(100):  # the daemon forwards what workers commit as it tails the table
            if [e.id for e in live_events(editor, run.id)] == ids:
                break
            await asyncio.sleep(0.1)
        assert [e.id for e in live_events(editor, run.id)] == ids
        happened = kinds(replayed)
        assert happened.count("user_prompt") == 1, "the takeover did not repeat the task"
        assert happened.count("final_summary") == 1
        assert happened[-1] == "status:completed"

        # A writer still holding epoch 1 (the killed worker, had it lived) is refused.
        stale = await PostgresStore.open(store.location)
        try:
            stale.db.fences[run.id] = 1
            late = NewEvent(
                project_id=run.project_id, run_id=run.id, type=EventType.AI_MESSAGE,
                severity=Severity.INFO, title="late", message="", payload={},
                created_at="2026-01-01T00:00:00.000Z",
            )  # fmt: skip
            with pytest.raises(LeaseLost):
                await stale.events.append([late])
        finally:
            await stale.close()

        # The worker's change, approved on the laptop, applies to the laptop's clone.
        listed: ChangeList = await editor.call(Requests.CHANGES_LIST, {"runId": run.id})
        (change,) = [c for c in listed.changes if c.path == "calc.py"]
        assert change.status is ChangeStatus.PROPOSED
        result: ChangeDecisionResult = await editor.call(
            Requests.CHANGES_APPROVE, {"changeIds": [change.id]}
        )
        assert result.applied == [change.id] and result.snapshot_id is not None
        assert (laptop / "calc.py").read_text() == FIXED, f"approved: {result}"
        assert (machine / "calc.py").read_text() == CALC, "the worker's clone is untouched"


CHECKED = FIXED.replace("a + b", "a + b  # checked")


def taken_over_script(tmp_path: Path, gate: Path) -> Path:
    """Writes calc.py, waits on ``gate`` (the worker is stopped there), then edits what it
    wrote: the edit finds its text only in a worktree that holds the run's work so far."""
    return write_script(
        tmp_path / "scripts",
        "fix-then-check",
        [
            turn("1. Fix add()\n2. Mark it checked"),
            turn("", call("write_file", path="calc.py", content=FIXED)),
            turn("Checking the fix", wait_for_file=gate),
            turn("", call("edit_file", path="calc.py", search="a + b", replace="a + b  # checked")),
            finish("Fixed and checked add()."),
        ],
    )


async def test_a_run_taken_over_on_another_machine_goes_on_from_its_work(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "go-on"
    script = taken_over_script(tmp_path, gate)
    async with team_of(tmp_path) as team:
        store, editor, machine = team.store, team.editor, team.machine
        other = team_clone(tmp_path / "origin", tmp_path / "other-machine")
        with workers(machine, tmp_path, 1) as first:
            run = await create_run(editor, script)
            await stop_lease_holder(store, run.id, first, signal.SIGKILL, EventType.FILE_UPDATED)
        (tmp_path / "other").mkdir()
        with workers(other, tmp_path / "other", 1) as second:
            gate.touch()
            finished = await poll(
                store,
                "SELECT owner FROM agent_runs WHERE id = %s AND status = 'completed'",
                (run.id,),
            )
            assert str(finished["owner"]).endswith(f":{second[0].pid}")

        replayed = await replay(editor, run.id)
        assert kinds(replayed).count("user_prompt") == 1, "the takeover did not repeat the task"
        made_again = [e for e in replayed if "made again" in e.message]
        assert len(made_again) == 1, "its base was made again on the other machine"
        listed: ChangeList = await editor.call(Requests.CHANGES_LIST, {"runId": run.id})
        (change,) = [c for c in listed.changes if c.path == "calc.py"]
        diff: ChangeDiff = await editor.call(Requests.CHANGES_DIFF, {"changeId": change.id})
        assert (diff.before, diff.after) == (CALC, CHECKED), "the edit found the first write"
        assert (other / "calc.py").read_text() == CALC, "the other clone's files are untouched"


@pytest.mark.parametrize("missing", ["base", "proposal"])
async def test_a_run_the_other_machine_cannot_make_again_fails_clearly(
    tmp_path: Path, missing: str
) -> None:
    """Its base holds a file only the first machine had, or what it wrote was never stored
    (the worker stopped in between): the run fails, saying why, rather than go on without it."""
    gate = tmp_path / "go-on"
    script = taken_over_script(tmp_path, gate)
    async with team_of(tmp_path) as team:
        store, editor, machine = team.store, team.editor, team.machine
        other = team_clone(tmp_path / "origin", tmp_path / "other-machine")
        if missing == "base":
            (machine / "notes.txt").write_text("only on the first machine\n")  # in its base
        with workers(machine, tmp_path, 1) as first:
            run = await create_run(editor, script)
            await stop_lease_holder(store, run.id, first, signal.SIGKILL, EventType.FILE_UPDATED)
        if missing == "proposal":
            await store.db.execute("DELETE FROM change_patches")
        (tmp_path / "other").mkdir()
        with workers(other, tmp_path / "other", 1):
            gate.touch()
            failed = await poll(
                store,
                "SELECT failed_reason FROM agent_runs WHERE id = %s AND status = 'failed'",
                (run.id,),
            )
        reason = str(failed["failed_reason"])
        expected = {
            "base": "is not on this machine, and this clone lacks its base",
            "proposal": "is not on this machine, and what it changed so far is not all stored",
        }
        assert expected[missing] in reason, reason
        assert "retry the run to start it afresh here" in reason


async def test_a_run_that_asks_and_pauses_executes_in_segments(tmp_path: Path) -> None:
    gate = tmp_path / "step-done"
    script = write_script(
        tmp_path / "scripts",
        "ask",
        [
            turn("1. Ask for the name"),
            turn("", call("ask_user", question="Which name?")),
            turn("Got:", quote_last=True),
            turn("", call("list_files"), wait_for_file=gate),
            finish("Named it."),
        ],
    )
    async with team_of(tmp_path) as team:
        store, editor, machine = team.store, team.editor, team.machine
        with workers(machine, tmp_path, 1):
            run = await create_run(editor, script)
            lease_free = (
                "SELECT 1 FROM agent_runs WHERE id = %s AND status = %s AND lease_owner IS NULL"
            )
            await poll(store, lease_free, (run.id, "waiting_for_user"))
            questions: HitlList = await editor.call(Requests.HITL_LIST, {"runId": run.id})
            (question,) = questions.requests
            await editor.call(
                Requests.HITL_RESPOND,
                HitlRespondParams(request_id=question.id, action=HitlAction.ANSWER, text="calc"),
            )
            # The next segment goes on; pause it while its step waits on the gate.
            await poll(store, "SELECT 1 FROM agent_runs WHERE id = %s AND status = 'running'"
                       " AND lease_owner IS NOT NULL", (run.id,))  # fmt: skip
            await editor.call(Requests.RUNS_PAUSE, RunIdParams(run_id=run.id))
            await poll(store, "SELECT 1 FROM agent_runs WHERE id = %s AND NOT pause_requested",
                       (run.id,))  # fmt: skip
            gate.touch()
            await poll(store, lease_free, (run.id, "paused"))
            await editor.call(Requests.RUNS_RESUME, RunIdParams(run_id=run.id))
            await poll(store, "SELECT 1 FROM agent_runs WHERE id = %s AND status = 'completed'",
                       (run.id,))  # fmt: skip

        jobs = await store.db.fetchall(
            "SELECT status FROM procrastinate_jobs WHERE args ->> 'run_id' = %s ORDER BY id",
            (str(run.id),),
        )
        assert [j["status"] for j in jobs] == ["succeeded"] * 3, "three segments, one job each"
        replayed = await replay(editor, run.id)
        assert [e.id for e in replayed] == sorted({e.id for e in replayed})
        assert [s for s in kinds(replayed) if s.startswith("status:")] == [
            "status:queued", "status:running", "status:waiting_for_user", "status:queued",
            "status:running", "status:paused", "status:queued", "status:running",
            "status:completed",
        ]  # fmt: skip
        said = [e.payload.get("content") for e in replayed
                if e.type is EventType.CONVERSATION_MESSAGE_ADDED]  # fmt: skip
        assert "Got:\n> calc" in said, "the answer reached the model in the next segment"
        assert kinds(replayed).count("user_prompt") == 1


async def test_a_cancel_fences_the_worker_off_and_frees_its_slot(tmp_path: Path) -> None:
    never = tmp_path / "never"
    stuck = write_script(
        tmp_path / "scripts", "stuck", [turn("1. Wait"), turn("...", wait_for_file=never)]
    )
    quick = write_script(tmp_path / "scripts", "quick", [turn("1. Go"), finish()])
    async with team_of(tmp_path) as team:
        store, editor, machine = team.store, team.editor, team.machine
        with workers(machine, tmp_path, 1):
            run = await create_run(editor, stuck)
            await poll(store, "SELECT 1 FROM agent_runs WHERE id = %s AND status = 'running'",
                       (run.id,))  # fmt: skip
            await editor.call(Requests.RUNS_CANCEL, RunIdParams(run_id=run.id))
            fenced = await store.db.fetchone(
                "SELECT status, lease_epoch FROM agent_runs WHERE id = %s", (run.id,)
            )
            assert fenced is not None
            assert (fenced["status"], fenced["lease_epoch"]) == ("cancelled", 2)

            # The one slot is free again: the next run completes on the same worker.
            after = await create_run(editor, quick)
            await poll(store, "SELECT 1 FROM agent_runs WHERE id = %s AND status = 'completed'",
                       (after.id,))  # fmt: skip
        replayed = await replay(editor, run.id)
        assert kinds(replayed)[-1] == "status:cancelled", "the worker wrote nothing after it"


async def test_a_directive_sent_from_the_editor_reaches_the_run_on_its_worker(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "go-on"
    script = write_script(
        tmp_path / "scripts",
        "directive",
        [
            turn("1. Work"),
            turn("Thinking", quote_last=True, wait_for_file=gate),
            turn("On it.", quote_last=True),
            finish("Done."),
        ],
    )
    async with team_of(tmp_path) as team:
        store, editor, machine = team.store, team.editor, team.machine
        with workers(machine, tmp_path, 1):
            run = await create_run(editor, script)
            await poll(store, "SELECT 1 FROM agent_runs WHERE id = %s AND status = 'running'"
                       " AND lease_owner IS NOT NULL", (run.id,))  # fmt: skip
            # The editor's daemon does not drive the run: the worker takes the message at the
            # run's next step, before the model's next turn.
            await editor.call(
                Requests.RUNS_DIRECTIVE, RunDirectiveParams(run_id=run.id, text="Use type hints")
            )
            gate.touch()
            await poll(store, "SELECT 1 FROM agent_runs WHERE id = %s AND status = 'completed'",
                       (run.id,))  # fmt: skip
        replayed = await replay(editor, run.id)
        (received,) = [e for e in replayed if e.type is EventType.DIRECTIVE_RECEIVED]
        assert received.message == "Use type hints"
        said = [e.message for e in replayed if e.type is EventType.AI_MESSAGE]
        quoted = [m for m in said if m.endswith("\n> Message from the user: Use type hints")]
        assert len(quoted) == 1, f"the model's turns quote what they were last told: {said}"
        taken = await store.db.scalar(
            "SELECT pending_directives = '[]'::jsonb FROM agent_runs WHERE id = %s", (run.id,)
        )
        assert taken, "the message was taken"


def test_a_worker_needs_the_teams_database(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "solo", {"calc.py": CALC})
    done = subprocess.run(
        [DEVFACTORY, "worker", "-w", str(workspace)],
        capture_output=True, text=True, env=cli_env(), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "a worker needs the team's PostgreSQL storage" in done.stderr
