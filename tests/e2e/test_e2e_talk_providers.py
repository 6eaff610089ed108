"""Talking to runs with each real provider over the real daemon: follow-ups that carry the
whole conversation (asserted on what the fake API received) across a daemon restart,
attachments, project rules, cost from the price table, rewinds, and the follow-ups of the
external agents (claude_code resumes its session, local_shell gets the story so far)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.client import DaemonClient as ProtocolClient
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import Event
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunCreateParams, RunMessageParams, RunRewindParams
from devfactory.protocol.settings import AgentSettings
from devfactory.server.agents.pricing import PriceTable
from devfactory.server.agents.providers.base import Usage
from fakes.anthropic_server import FakeAnthropic
from fakes.claude_cli import install_fake_claude
from fakes.http_server import FakeModelServer
from fakes.openai_server import FakeOpenAI
from fakes.replies import Reply, call
from fakes.shell_agent import shell_agent_command
from runs_support import wait_until_ended
from support import SERVER_COMMAND, make_git_repo

pytest_plugins = ["fakes.fixtures"]

KEY = {"KEY_A": "sk-test-aaaaaaaaaaaaaaaa"}
MODELS = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-5"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_git_repo(
        tmp_path / "ws",
        {
            "calc.py": "def add(a, b):\n    return a - b\n",
            "pkg/AGENTS.md": "Name every test after the bug it catches.\n",
            "pkg/mod.py": "VALUE = 1\n",
            "AGENTS.md": "Keep functions short.\n",
        },
    )


def chat_settings(provider: str, fake: FakeModelServer) -> dict[str, Any]:
    return {
        "providers": {
            provider: {"model": MODELS[provider], "baseUrl": fake.url, "apiKeyEnv": list(KEY)}
        },
        "index": {"enabled": False, "watch": False},
    }


def spawn(root: Path, settings: dict[str, Any]) -> Any:
    return ProtocolClient.spawn(
        root, command=SERVER_COMMAND, settings=settings, env={**os.environ, **KEY}
    )


async def events_of(client: ProtocolClient, run_id: int) -> list[Event]:
    found: list[Event] = (await client.call(Requests.EVENTS, {"runId": run_id})).events
    return found


def said(body: dict[str, Any]) -> str:
    """Everything a request sent the model, system prompt included, as one text."""
    return json.dumps(body.get("system", "")) + json.dumps(body["messages"])


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_follow_up_carries_the_whole_history_across_a_restart_and_costs_per_table(
    workspace: Path, provider: str, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
):
    fake = fake_openai if provider == "openai" else fake_anthropic
    fake.add(
        Reply(text="1. Fix add"),
        Reply(
            text="Fixing.",
            tool_calls=[call("edit_file", path="calc.py", search="a - b", replace="a + b")],
        ),
        Reply(tool_calls=[call("finish", summary="add() adds now")]),
        Reply(tool_calls=[call("finish", summary="tests written")]),
    )
    settings = chat_settings(provider, fake)
    async with spawn(workspace, settings) as client:
        run: Run = await client.call(
            Requests.RUNS_CREATE, RunCreateParams(prompt="fix add in calc.py", provider=provider)
        )
        run = await wait_until_ended(client, run.id)
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    table = PriceTable(AgentSettings().models, 128_000)
    expected = sum(
        table.cost(MODELS[provider], Usage(input_tokens=11, output_tokens=7)) or 0 for _ in range(3)
    )
    assert expected > 0 and run.metadata.usage.cost_usd == pytest.approx(expected)

    async with spawn(workspace, settings) as client:  # a new daemon: nothing held in memory
        continued: Run = await client.call(
            Requests.RUNS_MESSAGE, RunMessageParams(run_id=run.id, text="now add a test for it")
        )
        assert continued.metadata.iteration == 2
        run = await wait_until_ended(client, run.id, iteration=2)
        listed = await client.call(Requests.RUNS_LIST, {})
        follow_ups = [e for e in await events_of(client, run.id) if e.type is EventType.USER_PROMPT]
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    assert listed.total_usage.cost_usd == pytest.approx(run.metadata.usage.cost_usd)
    assert [e.payload.get("followUp", False) for e in follow_ups] == [False, True]
    assert len(fake.requests) == 4
    first, last = fake.requests[2].body, fake.requests[3].body
    sent = said(last)
    for part in ["fix add in calc.py", "1. Fix add", "a - b", "add() adds now", "Keep functions"]:
        assert part in sent, f"{part!r} is missing from the follow-up's request"
    assert "now add a test for it" in json.dumps(last["messages"][-1])
    assert last["messages"][: len(first["messages"])] == first["messages"], "history kept whole"
    assert (Path(run.worktree_path or "") / "calc.py").read_text().endswith("a + b\n")


async def test_a_selection_and_an_at_file_mention_reach_the_model_and_nested_rules_wait_for_their_folder(
    workspace: Path, fake_openai: FakeOpenAI
):
    fake_openai.add(
        Reply(text="1. Look"),
        Reply(tool_calls=[call("read_file", path="pkg/mod.py")]),
        Reply(tool_calls=[call("finish", summary="looked")]),
    )
    selection = {
        "uri": (workspace / "calc.py").as_uri(),
        "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}},
    }
    async with spawn(workspace, chat_settings("openai", fake_openai)) as client:
        with pytest.raises(Exception, match="@nowhere.py: no file or symbol"):
            await client.call(
                Requests.RUNS_CREATE,
                RunCreateParams(prompt="explain @nowhere.py", provider="openai"),
            )
        run: Run = await client.call(
            Requests.RUNS_CREATE,
            {
                "prompt": "why is this wrong? see @AGENTS.md",
                "provider": "openai",
                "context": [selection],
            },
        )
        run = await wait_until_ended(client, run.id)
        rules_pkg = await client.call(Requests.PROJECT_RULES, {"path": "pkg/mod.py"})
        rules_root = await client.call(Requests.PROJECT_RULES, {"path": "calc.py"})
        events = await events_of(client, run.id)
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    plan_request = json.dumps(fake_openai.requests[0].body["messages"])
    assert "calc.py:2-2 (selected in the editor)" in plan_request
    assert "    return a - b" in plan_request
    assert "AGENTS.md (@AGENTS.md)" in plan_request
    attached = [
        e for e in events if e.type is EventType.AI_CONTEXT_LOADED and e.payload.get("attachments")
    ]
    assert [a["path"] for a in attached[0].payload["attachments"]] == ["calc.py", "AGENTS.md"]

    nested = "Name every test after the bug it catches."
    assert [f.path for f in rules_pkg.files] == ["AGENTS.md", "pkg/AGENTS.md"]
    assert [f.path for f in rules_root.files] == ["AGENTS.md"]
    carrying = [nested in said(r.body) for r in fake_openai.requests]
    assert carrying == [False, False, True], "pkg/AGENTS.md only once the agent works in pkg/"


async def test_rewind_cuts_the_conversation_the_model_sees_next(
    workspace: Path, fake_openai: FakeOpenAI
):
    fake_openai.add(
        Reply(text="1. Two edits"),
        Reply(tool_calls=[call("write_file", path="notes.txt", content="first\n")]),
        Reply(tool_calls=[call("write_file", path="notes.txt", content="second turn\n")]),
        Reply(tool_calls=[call("finish", summary="two edits")]),
        Reply(tool_calls=[call("finish", summary="again")]),
    )
    async with spawn(workspace, chat_settings("openai", fake_openai)) as client:
        run: Run = await client.call(
            Requests.RUNS_CREATE, RunCreateParams(prompt="take notes", provider="openai")
        )
        run = await wait_until_ended(client, run.id)
        result = await client.call(Requests.RUNS_REWIND, RunRewindParams(run_id=run.id, step=1))
        # The changelog the run's finish wrote came after step 1 too.
        assert (result.step, result.files) == (1, ["CHANGELOG_AI.md", "notes.txt"])
        assert (Path(run.worktree_path or "") / "notes.txt").read_text() == "first\n"
        await client.call(Requests.RUNS_MESSAGE, RunMessageParams(run_id=run.id, text="try again"))
        run = await wait_until_ended(client, run.id, iteration=2)
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    last = said(fake_openai.requests[-1].body)
    assert "first" in last and "second turn" not in last and "two edits" not in last
    assert "try again" in last


async def test_claude_code_resumes_its_session_with_the_follow_up(workspace: Path, tmp_path: Path):
    executable = install_fake_claude(tmp_path / "bin")
    argv_log = tmp_path / "argv.jsonl"
    settings = {
        "providers": {"claude_code": {"executable": str(executable)}},
        "index": {"enabled": False, "watch": False},
    }
    env = {**os.environ, "FAKE_CLAUDE_ARGV": str(argv_log)}
    async with ProtocolClient.spawn(
        workspace, command=SERVER_COMMAND, settings=settings, env=env
    ) as client:
        run: Run = await client.call(
            Requests.RUNS_CREATE, RunCreateParams(prompt="write a note", provider="claude_code")
        )
        run = await wait_until_ended(client, run.id)
        await client.call(Requests.RUNS_MESSAGE, RunMessageParams(run_id=run.id, text="sign it"))
        run = await wait_until_ended(client, run.id, iteration=2)
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    second = json.loads(argv_log.read_text().splitlines()[1])
    assert second[second.index("-p") + 1] == "sign it"
    assert second[second.index("--resume") + 1] == "sess-new"


async def test_local_shell_gets_the_task_its_report_and_the_follow_up(workspace: Path):
    settings = {
        "providers": {"local_shell": {"command": shell_agent_command("--message", "{prompt}")}},
        "index": {"enabled": False, "watch": False},
    }
    async with spawn(workspace, settings) as client:
        run: Run = await client.call(
            Requests.RUNS_CREATE, RunCreateParams(prompt="write a note", provider="local_shell")
        )
        run = await wait_until_ended(client, run.id)
        await client.call(Requests.RUNS_MESSAGE, RunMessageParams(run_id=run.id, text="sign it"))
        run = await wait_until_ended(client, run.id, iteration=2)
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    note = (Path(run.worktree_path or "") / "AGENT.txt").read_text()
    assert note.startswith("write a note") and "# Earlier in this conversation" in note
    assert note.endswith("# The user's follow-up\nsign it")
