"""Stop never wedges the database, over the real daemon.

Stopping busy runs again and again (each Stop cancels the run's task wherever it is, often in
the middle of a write), and cancelling ``devfactory/runs/create`` requests with
``$/cancelRequest`` at every moment: afterwards writes still work, every stopped run is
cancelled, a create answered as cancelled inserted nothing, no run is left queued or running,
and ``devfactory/health`` says the database is fine.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import msgspec
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.project import Health
from devfactory.protocol.runs import Run, RunCreateParams, RunIdParams, RunList, RunListParams
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    mark,
    shared_daemon,
    turn,
    wait_event,
    wait_finished,
    write_script,
)
from support import DaemonClient, make_git_repo

S = RunStatus
pytestmark = pytest.mark.asyncio(loop_scope="module")

ROUNDS = 8
RUNS_PER_ROUND = 3
"""24 Stops of busy runs: the database used to wedge after 5 to 11."""
CREATES = 30


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("stop") / "project")


daemon = shared_daemon({**RUN_OPTIONS, "maxConcurrentRuns": RUNS_PER_ROUND})


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scripts")
    reading = [turn("Reading", call("read_file", path="README.md")) for _ in range(400)]
    return {
        "busy": write_script(folder, "busy", [turn("1. Read a lot"), *reading]),
        "quick": write_script(folder, "quick", [turn("1. Nothing to do"), finish()]),
    }


async def runs_in(client: DaemonClient, *statuses: RunStatus) -> list[Run]:
    found: RunList = await client.call(
        Requests.RUNS_LIST, RunListParams(status=list(statuses), limit=1000)
    )
    return found.runs


async def assert_database_works(client: DaemonClient, scripts: dict[str, Path]) -> None:
    health: Health = await client.call(Requests.HEALTH)
    assert health.database_ok, health.database_problem
    run = await create_run(client, scripts["quick"])
    done = await wait_finished(client, run.id)
    assert done.status is S.COMPLETED, done.failed_reason


def seeded() -> tuple[int, random.Random]:
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    return seed, random.Random(seed)


async def busy_runs(client: DaemonClient, scripts: dict[str, Path], count: int) -> list[Run]:
    """Runs deep in their loops, writing events and steps all the time."""
    runs = [await create_run(client, scripts["busy"], max_steps=500) for _ in range(count)]
    for run in runs:
        await wait_event(client, run.id, EventType.FILE_READ)
    return runs


async def test_stopping_busy_runs_again_and_again(
    daemon: DaemonClient, scripts: dict[str, Path]
) -> None:
    seed, rng = seeded()
    for _ in range(ROUNDS):
        runs = await busy_runs(daemon, scripts, RUNS_PER_ROUND)

        async def stop(run_id: int) -> Run:
            await asyncio.sleep(rng.uniform(0, 0.05))
            stopped: Run = await daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=run_id))
            return stopped

        stopped = await asyncio.gather(*(stop(run.id) for run in runs))
        assert [run.status for run in stopped] == [S.CANCELLED] * RUNS_PER_ROUND, f"seed {seed}"
    assert await runs_in(daemon, S.QUEUED, S.RUNNING) == []
    await assert_database_works(daemon, scripts)


async def shows_up(
    client: DaemonClient, known: set[int], start: int, reply: asyncio.Future[object]
) -> None:
    """Until a run not in ``known`` is notified, or ``reply`` arrives."""
    shown = asyncio.ensure_future(
        client.notes.wait_for(
            Notifications.RUN_CHANGED, lambda note: note.run.id not in known, start=start
        )
    )
    await asyncio.wait({shown, reply}, return_when=asyncio.FIRST_COMPLETED)
    shown.cancel()


async def test_cancelled_creates_insert_nothing_and_answered_ones_run(
    daemon: DaemonClient, scripts: dict[str, Path]
) -> None:
    seed, rng = seeded()
    before = {run.id for run in await runs_in(daemon)}
    # Two busy runs keep the daemon writing, so a cancellation often lands mid-create.
    busy = await busy_runs(daemon, scripts, 2)
    params = msgspec.to_builtins(
        RunCreateParams(prompt="Nothing", provider="scripted", model=str(scripts["quick"]))
    )
    answered: list[int] = []
    cancelled = 0
    known = before | {run.id for run in busy}
    for n in range(CREATES):
        msg_id = f"create-{seed}-{n}"
        start = mark(daemon)
        reply = asyncio.ensure_future(
            daemon.protocol.send_request_async(Requests.RUNS_CREATE, params, msg_id=msg_id)
        )
        if n % 2:  # at once, or a moment later
            await asyncio.sleep(rng.choice([0, 0.0005, 0.001, 0.002]))
        else:  # as soon as the new run shows (or the answer comes): in the middle of creating
            await shows_up(daemon, known, start, reply)
        daemon.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        try:
            answered.append(msgspec.convert(await reply, Run).id)
        except JsonRpcRequestCancelled:
            cancelled += 1
        known |= {note.run.id for note in daemon.notes.received[Notifications.RUN_CHANGED]}
    print(f"{cancelled} of {CREATES} creates were answered as cancelled")
    for run in busy:
        await daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=run.id))
    created = [run for run in await runs_in(daemon) if run.id not in before | {r.id for r in busy}]
    assert sorted(run.id for run in created) == sorted(answered), (
        f"a create answered as cancelled inserted nothing (seed {seed}, {cancelled} cancelled)"
    )
    for run_id in answered:  # each run that exists was scheduled and ran
        done = await wait_finished(daemon, run_id, timeout=60)
        assert done.status is S.COMPLETED, done.failed_reason
    assert await runs_in(daemon, S.QUEUED, S.RUNNING) == []
    await assert_database_works(daemon, scripts)
