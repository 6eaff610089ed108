"""A run uses tools of MCP servers listed in the settings, the real daemon as the MCP client.

The other side is a small server built with the official ``mcp`` SDK (tests/fakes/mcp_server.py)
on stdio. Its tools are offered as ``mcp__tracker__*``; an auto-approved one runs at once,
another asks the user first (refused here); a tool left out by ``allowed_tools`` is unknown to
the run; a server that does not start, and one that dies mid-run, are reported and the run
completes without them. Every call is an ``mcp_tool_called`` event.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import msgspec

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import EventType, HitlAction, RunStatus
from devfactory.protocol.events import Event, EventList, EventsParams, McpServerFailed
from devfactory.protocol.events import McpToolCalled as Called
from devfactory.protocol.hitl import HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunCreateParams, RunIdParams
from fakes.mcp_server import FAKE_MCP_SERVER
from runs_support import call, finish, turn, write_script
from support import SERVER_COMMAND, make_git_repo

SETTINGS: dict[str, Any] = {
    "defaultProvider": "scripted",
    "index": {"enabled": False, "watch": False},
    "mcp": {
        "servers": {
            "tracker": {
                "command": sys.executable,
                "args": [FAKE_MCP_SERVER],
                "allowedTools": ["lookup_issue", "close_issue", "crash"],
                "autoApprove": ["lookup_issue", "crash"],
                "timeoutS": 30,
            },
            "ghost": {"command": "/nonexistent/mcp-server"},
        }
    },
}


async def test_a_run_uses_mcp_tools_with_approval_and_survives_servers_failing(
    tmp_path: Path,
) -> None:
    root = make_git_repo(tmp_path / "project", {"calc.py": "def add(a, b):\n    return a - b\n"})
    script = write_script(
        tmp_path / "scripts",
        "mcp",
        [
            turn("1. Look up issue 7"),
            turn("", call("mcp__tracker__lookup_issue", number=7)),
            turn("Lookup:", quote_last=True),
            turn("", call("mcp__tracker__close_issue", number=7)),
            turn("Close:", quote_last=True),
            turn("", call("mcp__tracker__secret_tool")),
            turn("Secret:", quote_last=True),
            turn("", call("mcp__tracker__crash")),
            turn("Crash:", quote_last=True),
            turn("", call("mcp__tracker__lookup_issue", number=8)),
            turn("After:", quote_last=True),
            finish("Looked it up."),
        ],
    )
    questions: list[str] = []
    async with DaemonClient.spawn(root, command=SERVER_COMMAND, settings=SETTINGS) as client:

        def on_question(method: str, params: Any) -> None:
            if method == Notifications.QUESTION:
                questions.append(params.request.question)
                asyncio.get_running_loop().create_task(
                    client.call(
                        Requests.HITL_RESPOND,
                        HitlRespondParams(
                            request_id=params.request.id, action=HitlAction.ANSWER, text="Refuse"
                        ),
                    )
                )

        client.on_notification(on_question)
        run: Run = await client.call(
            Requests.RUNS_CREATE,
            RunCreateParams(prompt="Look up issue 7", provider="scripted", model=str(script)),
        )
        for _ in range(600):
            run = await client.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
            if run.status.is_terminal:
                break
            await asyncio.sleep(0.1)
        found: EventList = await client.call(Requests.EVENTS, EventsParams(run_id=run.id))

    assert run.status is RunStatus.COMPLETED, run.failed_reason
    events: list[Event] = found.events
    said = [e.message for e in events if e.type is EventType.AI_MESSAGE]
    assert said[0] == "Lookup:\n> Issue 7: add() subtracts"
    assert said[1] == "Close:\n> error: the user refused the call of close_issue (tracker)"
    assert said[2] == "Secret:\n> error: unknown or unavailable tool 'mcp__tracker__secret_tool'"
    assert said[3].startswith("Crash:\n> error: the MCP server tracker is not available")
    assert said[4] == "After:\n> error: unknown or unavailable tool 'mcp__tracker__lookup_issue'"
    assert questions == [
        'The agent wants to call `close_issue` of the MCP server `tracker` with {"number": 7}. '
        "Allow it?"
    ]

    called = [
        msgspec.convert(e.payload, Called) for e in events if e.type is EventType.MCP_TOOL_CALLED
    ]
    assert [(c.tool, c.approval, c.is_error) for c in called] == [
        ("lookup_issue", "auto", False),
        ("close_issue", "refused", True),
        ("crash", "auto", True),
    ]
    assert called[0].arguments == {"number": 7}
    assert called[0].result == "Issue 7: add() subtracts"

    failed = [
        msgspec.convert(e.payload, McpServerFailed)
        for e in events
        if e.type is EventType.MCP_SERVER_FAILED
    ]
    assert [f.server for f in failed] == ["ghost", "tracker"]
    assert "did not start" in failed[0].message
    assert "stopped during the run" in failed[1].message
