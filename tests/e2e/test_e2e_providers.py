"""Whole runs over the real daemon with each real provider, against loopback fakes.

The daemon subprocess drives the real openai/anthropic SDKs against fake APIs on 127.0.0.1,
and the real ``claude``/local-shell process handling against fake executables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.changes import Change
from devfactory.protocol.client import DaemonClient as ProtocolClient
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import Event
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunCreateParams
from fakes.anthropic_server import FakeAnthropic
from fakes.claude_cli import install_fake_claude
from fakes.openai_server import FakeOpenAI
from fakes.replies import Reply, call, rate_limited
from fakes.shell_agent import shell_agent_command
from runs_support import wait_until_ended
from support import SERVER_COMMAND, make_git_repo

pytest_plugins = ["fakes.fixtures"]

KEYS = {"KEY_A": "sk-test-aaaaaaaaaaaaaaaa", "KEY_B": "sk-test-bbbbbbbbbbbbbbbb"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "ws", {"calc.py": "def add(a, b):\n    return a - b\n"})


async def run_to_end(
    root: Path,
    provider: str,
    settings: dict[str, Any],
    env: dict[str, str],
    prompt: str = "fix add",
) -> tuple[Run, list[Event], list[str], list[Change]]:
    """Create a run, wait until it ends; returns (run, events, streamed text, changes)."""
    streamed: list[str] = []
    async with ProtocolClient.spawn(
        root, command=SERVER_COMMAND, settings=settings, env={**os.environ, **env}
    ) as client:
        client.on_notification(
            lambda method, params: (
                streamed.append(params.delta) if method == Notifications.STREAM else None
            )
        )
        run: Run = await client.call(
            Requests.RUNS_CREATE, RunCreateParams(prompt=prompt, provider=provider)
        )
        run = await wait_until_ended(client, run.id)
        events = (await client.call(Requests.EVENTS, {"runId": run.id})).events
        changes = (await client.call(Requests.CHANGES_LIST, {"runId": run.id})).changes
    return run, events, streamed, changes


def chat_script() -> list[Any]:
    return [
        Reply(text="Plan:\n1. Fix add\n2. Finish"),
        Reply(
            text="Fixing it.",
            tool_calls=[call("edit_file", path="calc.py", search="a - b", replace="a + b")],
        ),
        rate_limited(retry_after=30),
        Reply(tool_calls=[call("finish", summary="add() adds")]),
    ]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_chat_providers_stream_call_tools_and_rotate_on_429(
    workspace: Path, provider: str, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
):
    fake = fake_openai if provider == "openai" else fake_anthropic
    fake.add(*chat_script())
    settings = {
        "providers": {
            provider: {"model": "test-model", "baseUrl": fake.url, "apiKeyEnv": list(KEYS)}
        }
    }
    run, events, streamed, changes = await run_to_end(workspace, provider, settings, KEYS)

    assert run.status is RunStatus.COMPLETED, run.failed_reason
    assert "".join(streamed).startswith("Plan:")
    kinds = [e.type for e in events]
    assert EventType.AI_PLAN_CREATED in kinds
    assert kinds[-1] is EventType.RUN_STATUS_CHANGED
    assert [c.path for c in changes if c.path == "calc.py"] == ["calc.py"]
    keys_used = fake.api_keys
    assert len(fake.requests) == 4
    assert keys_used[2] != keys_used[3], "the 429 moved the run to the other account"
    assert run.metadata.usage.input_tokens > 0
    for event in events:  # keys never leak into the timeline
        assert all(key not in str(event.payload) + event.message for key in KEYS.values())


async def test_claude_code_runs_in_the_worktree_and_keeps_its_session(
    workspace: Path, tmp_path: Path
):
    executable = install_fake_claude(tmp_path / "bin")
    settings = {"providers": {"claude_code": {"executable": str(executable)}}}
    run, events, _, changes = await run_to_end(workspace, "claude_code", settings, {})
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    assert run.metadata.provider_session_id == "sess-new"
    assert run.metadata.usage.cost_usd == pytest.approx(0.0123)
    assert "CLAUDE.txt" in {c.path for c in changes}
    assert EventType.AI_MESSAGE in [e.type for e in events]
    assert not (workspace / "CLAUDE.txt").exists(), "the user's files are untouched until approval"


async def test_local_shell_agent_output_streams_and_its_diff_is_proposed(workspace: Path):
    settings = {
        "providers": {"local_shell": {"command": shell_agent_command("--message", "{prompt}")}}
    }
    run, events, _, changes = await run_to_end(
        workspace, "local_shell", settings, {}, prompt="hello agent"
    )
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    outputs = [e.message for e in events if e.type is EventType.COMMAND_OUTPUT]
    assert any("Applied edit to AGENT.txt" in text for text in outputs)
    assert "AGENT.txt" in {c.path for c in changes}


async def test_a_key_the_model_echoes_never_reaches_events_files_diffs_or_the_changelog(
    workspace: Path, fake_openai: FakeOpenAI
):
    key = KEYS["KEY_A"]
    fake_openai.add(
        Reply(text=f"Plan: 1. note the key {key}", chunk_size=3),  # the key split over deltas
        Reply(
            text=f"Writing {key} down.",
            chunk_size=4,
            tool_calls=[call("write_file", path="notes.txt", content=f"token = {key}\n")],
        ),
        Reply(tool_calls=[call("finish", summary=f"stored {key}")]),
    )
    settings = {
        "providers": {"openai": {"model": "m", "baseUrl": fake_openai.url, "apiKeyEnv": ["KEY_A"]}}
    }
    run, events, streamed, changes = await run_to_end(workspace, "openai", settings, {"KEY_A": key})

    assert run.status is RunStatus.COMPLETED, run.failed_reason
    assert key not in "".join(streamed) and "[redacted $KEY_A]" in "".join(streamed)
    for event in events:
        assert key not in str(event.payload) + event.message + event.title
    assert {"notes.txt", "CHANGELOG_AI.md"} <= {c.path for c in changes}
    leaks = [
        path
        for path in workspace.rglob("*")
        if path.is_file() and not path.is_symlink() and key.encode() in path.read_bytes()
    ]
    assert leaks == [], "the key was written to disk (database, diffs, worktree, changelog)"


async def test_request_changes_reaches_a_local_shell_agent(workspace: Path):
    settings = {
        "providers": {"local_shell": {"command": shell_agent_command("--message", "{prompt}")}}
    }
    async with ProtocolClient.spawn(
        workspace, command=SERVER_COMMAND, settings=settings, env=dict(os.environ)
    ) as client:
        run: Run = await client.call(
            Requests.RUNS_CREATE, RunCreateParams(prompt="write a note", provider="local_shell")
        )
        run = await wait_until_ended(client, run.id)
        assert run.status is RunStatus.COMPLETED, run.failed_reason
        await client.call(
            Requests.CHANGES_REQUEST_CHANGES, {"runId": run.id, "note": "sign it with your name"}
        )
        run = await wait_until_ended(client, run.id, iteration=2)
        assert run.status is RunStatus.COMPLETED, run.failed_reason
    note = (Path(run.worktree_path or "") / "AGENT.txt").read_text()
    assert note.startswith("write a note") and "sign it with your name" in note
