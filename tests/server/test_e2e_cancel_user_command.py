"""Cancelling a run also kills the commands the user started in its worktree."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.methods import Notifications, Requests
from support import DaemonClient, make_git_repo, wait_for_run, write_script


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = make_git_repo(
        tmp_path / "ws",
        {"test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(60)\n"},
    )
    write_script(
        root,
        [
            {"text": "Plan: 1. ask"},
            {"toolCalls": [{"name": "ask_user", "arguments": {"question": "wait here"}}]},
            {"toolCalls": [{"name": "finish", "arguments": {"summary": "never reached"}}]},
        ],
    )
    return root


async def test_cancel_kills_a_user_command_running_in_the_worktree(daemon: DaemonClient):
    run = await daemon.call(
        Requests.RUNS_CREATE, {"prompt": "wait", "provider": "scripted", "model": "script.json"}
    )
    await daemon.notes.wait_for(Notifications.QUESTION)
    command = asyncio.ensure_future(
        daemon.call(
            Requests.COMMANDS_RUN, {"runId": run.id, "command": "python -m pytest -q test_slow.py"}
        )
    )
    await daemon.notes.wait_for(
        Notifications.EVENT, lambda note: note.event.type.value == "command_started"
    )
    started = time.monotonic()
    await daemon.call(Requests.RUNS_CANCEL, {"runId": run.id})
    execution: CommandExecution = await asyncio.wait_for(command, 30)
    assert time.monotonic() - started < 20
    assert execution.was_killed
    assert (await wait_for_run(daemon, run.id, {"cancelled"})).status.value == "cancelled"


@pytest.mark.parametrize("delay_s", [0.0, 0.05, 0.2])
async def test_cancel_stops_a_user_command_that_is_still_starting(
    daemon: DaemonClient, delay_s: float
):
    """Stop lands anywhere between the request and the process: the command never runs on."""
    run = await daemon.call(
        Requests.RUNS_CREATE, {"prompt": "wait", "provider": "scripted", "model": "script.json"}
    )
    await daemon.notes.wait_for(Notifications.QUESTION, lambda n: n.request.run_id == run.id)
    command = asyncio.ensure_future(
        daemon.call(
            Requests.COMMANDS_RUN, {"runId": run.id, "command": "python -m pytest -q test_slow.py"}
        )
    )
    await asyncio.sleep(delay_s)
    started = time.monotonic()
    await daemon.call(Requests.RUNS_CANCEL, {"runId": run.id})
    execution: CommandExecution = await asyncio.wait_for(command, 30)
    assert time.monotonic() - started < 20
    assert execution.was_killed and execution.finished_at is not None
