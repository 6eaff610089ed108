"""Runs and their commands over the real daemon: cancel kills a running command's whole process
group at once; pause lets the command finish and stops at the next step boundary."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from command_support import processes_with
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import CommandFinished, decode_payload
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunIdParams
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    holding_test,
    kinds,
    replay,
    shared_daemon,
    turn,
    until,
    wait_event,
    wait_finished,
    wait_status,
    write_script,
)
from support import DaemonClient, make_git_repo, write_files

pytestmark = pytest.mark.asyncio(loop_scope="module")
S = RunStatus

BRIEF = """\
import time

def test_brief():
    time.sleep(1)
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("commands") / "project")


daemon = shared_daemon(RUN_OPTIONS)


async def test_cancel_kills_the_command_and_its_children(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    marker = f"devfactory_hold_{secrets.token_hex(6)}"
    files, command = holding_test(marker)
    write_files(workspace, files)
    script = write_script(
        tmp_path,
        "hold",
        [turn("1. Test"), turn("", call("run_command", command=command)), finish()],
    )
    run = await create_run(daemon, script)
    await wait_event(daemon, run.id, EventType.COMMAND_STARTED)
    # pytest and the child it started: two processes of the command's group.
    await until(lambda: len(processes_with(marker)) >= 2)

    cancelled: Run = await daemon.call(Requests.RUNS_CANCEL, RunIdParams(run_id=run.id))
    assert cancelled.status is S.CANCELLED
    await until(lambda: processes_with(marker) == [], timeout=10)
    events = await replay(daemon, run.id)
    assert kinds(events)[-3:] == ["command_failed", "test_failed", "status:cancelled"]
    killed = decode_payload(events[-3])
    assert isinstance(killed, CommandFinished)
    assert (killed.command, killed.was_killed) == (command, True)


async def test_pause_lets_the_command_finish_then_stops_at_the_step_boundary(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    write_files(workspace, {"test_brief.py": BRIEF})
    command = "pytest -q -p no:cacheprovider test_brief.py"
    script = write_script(
        tmp_path,
        "brief",
        [turn("1. Test"), turn("", call("run_command", command=command)), finish()],
    )
    run = await create_run(daemon, script)
    await wait_event(daemon, run.id, EventType.COMMAND_STARTED)
    await daemon.call(Requests.RUNS_PAUSE, RunIdParams(run_id=run.id))
    paused = await wait_status(daemon, run.id, S.PAUSED)
    assert paused.current_step == 2
    so_far = kinds(await replay(daemon, run.id))
    assert so_far[-1] == "status:paused"
    assert "command_completed" in so_far, "the command ran to its end before the pause"

    await daemon.call(Requests.RUNS_RESUME, RunIdParams(run_id=run.id))
    done = await wait_finished(daemon, run.id)
    assert done.status is S.COMPLETED, done.failed_reason
