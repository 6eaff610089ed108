"""What each provider puts on the wire for a whole conversation: system prompt, tools, earlier
tool calls and their results, a user directive; recorded by the fake servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.settings import ProviderSettings, Settings
from devfactory.server.agents.providers.anthropic_provider import MAX_OUTPUT_TOKENS
from devfactory.server.agents.providers.base import ChatProvider, Message, ToolCall, ToolSpec
from devfactory.server.agents.providers.registry import create_provider
from devfactory.storage import Store
from fakes.anthropic_server import FakeAnthropic
from fakes.http_server import FakeModelServer
from fakes.openai_server import FakeOpenAI
from fakes.replies import Reply

pytest_plugins = ["fakes.fixtures"]

SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
TOOLS = [ToolSpec(name="read_file", description="Read a file.", parameters=SCHEMA)]
CONVERSATION = [
    Message(role="system", content="You are the backend agent."),
    Message(role="user", content="Fix add()."),
    Message(
        role="assistant",
        content="Reading both files.",
        tool_calls=[
            ToolCall(id="c1", name="read_file", arguments={"path": "calc.py"}),
            ToolCall(id="c2", name="read_file", arguments={"path": "test_calc.py"}),
        ],
    ),
    Message(role="tool", tool_call_id="c1", name="read_file", content="def add(a, b): ..."),
    Message(role="tool", tool_call_id="c2", name="read_file", content="assert add(1, 2) == 3"),
    Message(role="user", content="Directive: keep the signature."),
]


async def sent_body(
    provider_name: str, fake: FakeModelServer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.setenv("WIRE_TEST_KEY", "sk-wire-test-0123456789")
    config = ProviderSettings(model="m-1", base_url=fake.url, api_key_env=["WIRE_TEST_KEY"])
    provider = create_provider(
        provider_name,
        Settings(providers={provider_name: config}),
        model=None,
        workspace=Path("."),
        store=store,
    )
    assert isinstance(provider, ChatProvider)
    fake.add(Reply(text="ok"))
    await provider.complete(CONVERSATION, TOOLS, lambda _: None)
    await provider.aclose()  # type: ignore[attr-defined]
    body: dict[str, Any] = fake.requests[0].body
    return body


async def test_openai_request(
    fake_openai: FakeOpenAI, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await sent_body("openai", fake_openai, accounts_store, monkeypatch)
    assert body == {
        "model": "m-1",
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "read_file",
                    "description": "Read a file.",
                    "parameters": SCHEMA,
                },
            }
        ],
        "messages": [
            {"role": "system", "content": "You are the backend agent."},
            {"role": "user", "content": "Fix add()."},
            {
                "role": "assistant",
                "content": "Reading both files.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": '{"path": "calc.py"}'},
                    },
                    {
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": '{"path": "test_calc.py"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "def add(a, b): ..."},
            {"role": "tool", "tool_call_id": "c2", "content": "assert add(1, 2) == 3"},
            {"role": "user", "content": "Directive: keep the signature."},
        ],
    }


async def test_anthropic_request(
    fake_anthropic: FakeAnthropic, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await sent_body("anthropic", fake_anthropic, accounts_store, monkeypatch)
    assert body == {
        "model": "m-1",
        "max_tokens": MAX_OUTPUT_TOKENS,
        "stream": True,
        "system": "You are the backend agent.",
        "tools": [{"name": "read_file", "description": "Read a file.", "input_schema": SCHEMA}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Fix add()."}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Reading both files."},
                    {
                        "type": "tool_use",
                        "id": "c1",
                        "name": "read_file",
                        "input": {"path": "calc.py"},
                    },
                    {
                        "type": "tool_use",
                        "id": "c2",
                        "name": "read_file",
                        "input": {"path": "test_calc.py"},
                    },
                ],
            },
            {
                # Both results and the directive: one user turn, results first.
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "c1", "content": "def add(a, b): ..."},
                    {
                        "type": "tool_result",
                        "tool_use_id": "c2",
                        "content": "assert add(1, 2) == 3",
                    },
                    {"type": "text", "text": "Directive: keep the signature."},
                ],
            },
        ],
    }


@pytest.mark.parametrize("provider_name", ["openai", "anthropic"])
async def test_no_tools_means_no_tools_parameter(
    provider_name: str,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
    accounts_store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both APIs refuse an empty tool list."""
    fake = fake_openai if provider_name == "openai" else fake_anthropic
    monkeypatch.setenv("WIRE_TEST_KEY", "sk-wire-test-0123456789")
    config = ProviderSettings(model="m-1", base_url=fake.url, api_key_env=["WIRE_TEST_KEY"])
    provider = create_provider(
        provider_name,
        Settings(providers={provider_name: config}),
        model=None,
        workspace=Path("."),
        store=accounts_store,
    )
    fake.add(Reply(text="ok"))
    await provider.complete([Message(role="user", content="hi")], [], lambda _: None)  # type: ignore[union-attr]
    await provider.aclose()  # type: ignore[union-attr]
    assert "tools" not in fake.requests[0].body
