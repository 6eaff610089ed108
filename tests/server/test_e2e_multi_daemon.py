"""Two daemons on one workspace (an editor's and a CLI's): both see every run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.client import DaemonClient as ProtocolClient
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import EventNotification
from devfactory.protocol.hitl import HitlRespondParams, QuestionNotification
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunCreateParams
from support import SERVER_COMMAND, make_git_repo, write_script


async def wait_until(predicate: Any, timeout: float = 15) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.both_databases
async def test_a_second_daemon_sees_the_first_ones_live_run_and_leaves_it_alone(tmp_path: Path):
    root = make_git_repo(tmp_path / "ws", {"a.py": "x = 1\n"})
    write_script(
        root,
        [
            {"text": "Plan: 1. edit"},
            {
                "toolCalls": [
                    {"name": "write_file", "arguments": {"path": "a.py", "content": "x = 2\n"}}
                ]
            },
            {"toolCalls": [{"name": "ask_user", "arguments": {"question": "Keep going?"}}]},
            {"toolCalls": [{"name": "finish", "arguments": {"summary": "done"}}]},
        ],
    )
    async with ProtocolClient.spawn(root, command=SERVER_COMMAND) as cli:
        questions: list[QuestionNotification] = []
        cli.on_notification(
            lambda method, params: (
                questions.append(params) if method == Notifications.QUESTION else None
            )
        )
        run: Run = await cli.call(
            Requests.RUNS_CREATE,
            RunCreateParams(prompt="edit a", provider="scripted", model="script.json"),
        )
        await wait_until(lambda: questions)

        async with ProtocolClient.spawn(root, command=SERVER_COMMAND) as editor:
            events: list[EventNotification] = []
            runs: list[Run] = []

            def record(method: str, params: Any) -> None:
                if method == Notifications.EVENT:
                    events.append(params)
                elif method == Notifications.RUN_CHANGED:
                    runs.append(params.run)

            editor.on_notification(record)
            waiting: Run = await editor.call(Requests.RUNS_GET, {"runId": run.id})
            assert waiting.status is RunStatus.WAITING_FOR_USER  # not failed as "stranded"

            await cli.call(
                Requests.HITL_RESPOND,
                HitlRespondParams(request_id=questions[0].request.id, text="yes"),
            )
            await wait_until(lambda: any(r.status is RunStatus.COMPLETED for r in runs))
            # The tail forwards what the other daemon wrote last a moment later: wait for it.
            last = (await editor.call(Requests.EVENTS, {"runId": run.id})).events[-1].id
            await wait_until(lambda: any(n.event.id == last for n in events))

            forwarded = [n.event for n in events if n.event.run_id == run.id]
            ids = [e.id for e in forwarded]
            assert ids == sorted(set(ids))  # in order, no duplicate
            assert EventType.RESUMED in [e.type for e in forwarded]
            assert forwarded[-1].type in (EventType.RUN_STATUS_CHANGED, EventType.DOCS_UPDATED)
            replay = await editor.call(Requests.EVENTS, {"runId": run.id, "since": ids[0] - 1})
            assert [e.id for e in replay.events] == ids
