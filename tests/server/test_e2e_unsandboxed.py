"""Without the sandbox a run asks before the project's code runs (over the real daemon with
``commands.sandbox = false``): the agent's command becomes a question to the user; refusing
keeps it from running and holds for the rest of the run, allowing for the run runs it and the
next ones without asking again."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.enums import EventType, HitlAction, RunStatus
from devfactory.protocol.events import CommandFinished, decode_payload
from devfactory.protocol.hitl import HitlList, HitlListParams, HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.server.execution.consent import ALLOW_RUN, CHOICES, REFUSE, REFUSED
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    replay,
    shared_daemon,
    turn,
    wait_finished,
    write_script,
)
from support import DaemonClient, make_git_repo

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPTIONS = {
    **RUN_OPTIONS,
    "commands": {"sandbox": False, "allow": [{"program": "python3", "args": ["-c *"]}]},
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("unsandboxed") / "project")


daemon = shared_daemon(OPTIONS)


def plant(name: str) -> str:
    """Project code that leaves a trace: what a malicious test could do unconfined."""
    return f"python3 -c \"open('{name}', 'w').write('ran')\""


async def run_two_commands(daemon: DaemonClient, scripts: Path, answer: str) -> int:
    script = write_script(
        scripts,
        "two",
        [
            turn("1. Run the tests"),
            turn("", call("run_command", command=plant("first"))),
            turn("", call("run_command", command=plant("second"))),
            finish(),
        ],
    )
    run = await create_run(daemon, script)
    note = await daemon.notes.wait_for(Notifications.QUESTION, lambda n: n.request.run_id == run.id)
    assert note.request.choices == CHOICES
    assert plant("first") in note.request.question
    assert "sandbox is unavailable (disabled by the commands.sandbox setting)" in (
        note.request.question
    )
    await daemon.call(
        Requests.HITL_RESPOND,
        HitlRespondParams(request_id=note.request.id, action=HitlAction.ANSWER, text=answer),
    )
    assert (await wait_finished(daemon, run.id)).status is RunStatus.COMPLETED
    asked: HitlList = await daemon.call(
        Requests.HITL_LIST, HitlListParams(run_id=run.id, status=None)
    )
    assert len(asked.requests) == 1, "one answer holds for the rest of the run"
    return run.id


async def test_refusing_keeps_the_projects_code_from_running(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
) -> None:
    run_id = await run_two_commands(daemon, tmp_path, REFUSE)
    worktree = workspace / ".devfactory" / "worktrees" / f"run-{run_id}"
    assert not (worktree / "first").exists() and not (worktree / "second").exists()
    refused = [
        decode_payload(e)
        for e in await replay(daemon, run_id)
        if e.type is EventType.COMMAND_FAILED
    ]
    assert refused == [
        CommandFinished(
            execution_id=p.execution_id,  # type: ignore[attr-defined]
            command=plant(name),
            was_blocked=True,
            block_reason=REFUSED,
        )
        for p, name in zip(refused, ("first", "second"), strict=True)
    ]


async def test_allowing_for_the_run_runs_its_commands(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
) -> None:
    run_id = await run_two_commands(daemon, tmp_path, ALLOW_RUN)
    worktree = workspace / ".devfactory" / "worktrees" / f"run-{run_id}"
    assert (worktree / "first").read_text() == (worktree / "second").read_text() == "ran"
