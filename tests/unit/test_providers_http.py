"""The ``openai`` and ``anthropic`` providers, through their real SDKs, against fake servers
on 127.0.0.1 that speak each API's streaming wire format.

Both providers share one behaviour table: streamed text and tool calls, usage, 429 and
overloaded rotation across accounts, every account resting, keys never leaking, an
unreachable server and cancellation mid-request.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devfactory.protocol.settings import ProviderSettings, Settings
from devfactory.server.agents.providers.base import (
    AllAccountsExhausted,
    ChatProvider,
    Message,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    ToolCall,
    ToolSpec,
    Turn,
    Usage,
)
from devfactory.server.agents.providers.registry import create_provider
from devfactory.server.agents.providers.sdk import MALFORMED_ARGUMENTS_KEY
from devfactory.storage import Store
from fakes.anthropic_server import FakeAnthropic
from fakes.http_server import FakeModelServer
from fakes.openai_server import FakeOpenAI
from fakes.replies import ErrorReply, Reply, ToolCallReply, call, rate_limited

pytest_plugins = ["fakes.fixtures"]

KEY_A = "sk-test-key-aaaaaaaaaaaa"
KEY_B = "sk-test-key-bbbbbbbbbbbb"
MESSAGES = [Message(role="system", content="You fix bugs."), Message(role="user", content="Go")]
TOOLS = [
    ToolSpec(
        name="read_file",
        description="Read a file of the worktree.",
        parameters={"type": "object", "properties": {"path": {"type": "string"}}},
    )
]


@dataclass(frozen=True)
class Api:
    """What differs between the two providers, for the shared table."""

    provider: str
    server: type[FakeModelServer]
    call_id_prefix: str
    tool_stop: str
    text_stop: str
    overloaded_status: int
    mid_stream_status: int
    """The status whose error type, sent as a mid-stream error event, means "try later"."""


APIS = [
    pytest.param(Api("openai", FakeOpenAI, "call", "tool_calls", "stop", 503, 429), id="openai"),
    pytest.param(
        Api("anthropic", FakeAnthropic, "toolu", "tool_use", "end_turn", 529, 529),
        id="anthropic",
    ),
]


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> Api:
    chosen: Api = request.param
    return chosen


@pytest.fixture
def server(api: Api) -> FakeModelServer:
    with api.server() as fake:
        yield fake


def make_provider(
    api: Api,
    server: FakeModelServer,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    keys: dict[str, str] | None = None,
    base_url: str | None = None,
) -> ChatProvider:
    keys = {"TEST_KEY_A": KEY_A} if keys is None else keys
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    config = ProviderSettings(
        model="test-model", base_url=base_url or server.url, api_key_env=list(keys), timeout_s=20
    )
    provider = create_provider(
        api.provider,
        Settings(providers={api.provider: config}),
        model=None,
        workspace=Path("."),
        store=store,
    )
    assert isinstance(provider, ChatProvider)
    return provider


async def complete(provider: ChatProvider, deltas: list[str] | None = None) -> Turn:
    sink: list[str] = [] if deltas is None else deltas
    try:
        return await provider.complete(MESSAGES, TOOLS, sink.append)
    finally:
        await provider.aclose()  # type: ignore[attr-defined]


async def test_streams_text_then_returns_tool_calls_and_usage(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "I will read calc.py, then fix add()."
    server.add(
        Reply(
            text=text,
            tool_calls=[call("read_file", path="calc.py"), call("finish", summary="Fixed it.")],
            input_tokens=42,
            output_tokens=17,
            cached_input_tokens=30,
        )
    )
    deltas: list[str] = []
    turn = await complete(make_provider(api, server, accounts_store, monkeypatch), deltas)
    assert turn == Turn(
        text=text,
        tool_calls=[
            ToolCall(
                id=f"{api.call_id_prefix}_1_0", name="read_file", arguments={"path": "calc.py"}
            ),
            ToolCall(
                id=f"{api.call_id_prefix}_1_1", name="finish", arguments={"summary": "Fixed it."}
            ),
        ],
        usage=Usage(input_tokens=42, output_tokens=17, cached_input_tokens=30),
        stop_reason=api.tool_stop,
    )
    assert "".join(deltas) == text and len(deltas) == 8  # streamed, 5 characters at a time
    assert server.api_keys == [KEY_A]
    assert server.requests[0].body["model"] == "test-model"


async def test_text_only_turn(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add(Reply(text="All done.", input_tokens=3, output_tokens=2))
    turn = await complete(make_provider(api, server, accounts_store, monkeypatch))
    assert turn == Turn(
        text="All done.", usage=Usage(input_tokens=3, output_tokens=2), stop_reason=api.text_stop
    )


async def test_malformed_tool_arguments_reach_the_loop_as_an_error_marker(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add(Reply(tool_calls=[ToolCallReply("read_file", raw_arguments='{"path": "a.py"')]))
    turn = await complete(make_provider(api, server, accounts_store, monkeypatch))
    assert turn.tool_calls[0].arguments == {MALFORMED_ARGUMENTS_KEY: '{"path": "a.py"'}


@pytest.mark.parametrize("overloaded", [False, True], ids=["429", "overloaded"])
async def test_a_rate_limited_account_rests_and_the_next_one_answers(
    api: Api,
    server: FakeModelServer,
    accounts_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    overloaded: bool,
) -> None:
    error = ErrorReply(api.overloaded_status, "Overloaded", 30) if overloaded else rate_limited(30)
    server.add(error, Reply(text="from B"), Reply(text="B again"))
    provider = make_provider(
        api, server, accounts_store, monkeypatch, {"TEST_KEY_A": KEY_A, "TEST_KEY_B": KEY_B}
    )
    before = datetime.now(UTC)
    first = await provider.complete(MESSAGES, TOOLS, lambda _: None)
    second = await complete(provider)  # A still rests: B answers again
    assert (first.text, second.text) == ("from B", "B again")
    assert server.api_keys == [KEY_A, KEY_B, KEY_B]
    rows = {row.name: row for row in await accounts_store.provider_accounts.list(api.provider)}
    assert rows["TEST_KEY_A"].api_key_env == "TEST_KEY_A"
    assert rows["TEST_KEY_B"].exhausted_until is None
    rest_end = datetime.fromisoformat(rows["TEST_KEY_A"].exhausted_until or "")
    assert before + timedelta(seconds=29) < rest_end < datetime.now(UTC) + timedelta(seconds=31)


async def test_overloaded_mid_stream_moves_to_the_next_account(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    overloaded = ErrorReply(api.mid_stream_status, "Overloaded")
    server.add(Reply(text="Half an ans", stream_error=overloaded), Reply(text="A whole answer."))
    provider = make_provider(
        api, server, accounts_store, monkeypatch, {"TEST_KEY_A": KEY_A, "TEST_KEY_B": KEY_B}
    )
    deltas: list[str] = []
    turn = await complete(provider, deltas)
    assert turn.text == "A whole answer."
    assert server.api_keys == [KEY_A, KEY_B]
    # The live preview saw the abandoned start; the turn itself holds only the answer.
    assert "".join(deltas) == "Half an ansA whole answer."


async def test_any_other_error_mid_stream_fails_the_turn_with_the_reason(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add(Reply(text="Hal", stream_error=ErrorReply(500, "internal hiccup")))
    with pytest.raises(ProviderError, match="internal hiccup") as caught:
        await complete(make_provider(api, server, accounts_store, monkeypatch))
    assert not isinstance(caught.value, RateLimited | AllAccountsExhausted)


async def test_accounts_take_turns(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add(Reply(text="1"), Reply(text="2"), Reply(text="3"))
    provider = make_provider(
        api, server, accounts_store, monkeypatch, {"TEST_KEY_A": KEY_A, "TEST_KEY_B": KEY_B}
    )
    for _ in range(3):
        await provider.complete(MESSAGES, TOOLS, lambda _: None)
        await asyncio.sleep(0.002)  # last_used_at has millisecond resolution
    await provider.aclose()  # type: ignore[attr-defined]
    assert server.api_keys == [KEY_A, KEY_B, KEY_A]


async def test_when_every_account_rests_the_soonest_end_is_reported(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add(rate_limited(5), rate_limited(20))
    provider = make_provider(
        api, server, accounts_store, monkeypatch, {"TEST_KEY_A": KEY_A, "TEST_KEY_B": KEY_B}
    )
    with pytest.raises(AllAccountsExhausted) as caught:
        await provider.complete(MESSAGES, TOOLS, lambda _: None)
    assert caught.value.retry_after is not None and 3 < caught.value.retry_after <= 5
    assert "TEST_KEY_A, TEST_KEY_B" in str(caught.value)
    # While they rest, no request is even sent.
    with pytest.raises(AllAccountsExhausted):
        await complete(provider)
    assert server.api_keys == [KEY_A, KEY_B]


async def test_a_refused_key_is_named_by_its_variable_and_never_shown(
    api: Api,
    server: FakeModelServer,
    accounts_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.add(ErrorReply(401, f"Incorrect API key provided: {KEY_A}."))
    provider = make_provider(api, server, accounts_store, monkeypatch)
    with pytest.raises(ProviderError) as caught:
        await complete(provider)
    message = str(caught.value)
    assert KEY_A not in message
    assert "TEST_KEY_A" in message and "401" in message
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").error("request failed: %s", f"key={KEY_A}")
    assert KEY_A not in caplog.text and "[redacted $TEST_KEY_A]" in caplog.text


async def test_rate_limit_messages_never_show_the_key(
    api: Api,
    server: FakeModelServer,
    accounts_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.add(ErrorReply(429, f"Too many requests for {KEY_A}", 1))
    provider = make_provider(api, server, accounts_store, monkeypatch)
    with caplog.at_level(logging.DEBUG), pytest.raises(AllAccountsExhausted) as caught:
        await complete(provider)
    assert KEY_A not in str(caught.value) and KEY_A not in caplog.text
    assert "account TEST_KEY_A is rate limited" in caplog.text


async def test_an_unreachable_server_names_the_url_and_the_setting(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    provider = make_provider(api, server, accounts_store, monkeypatch, base_url=closed)
    with pytest.raises(ProviderUnavailable) as caught:
        await complete(provider)
    assert f"cannot connect to {closed}" in str(caught.value)
    assert f"providers.{api.provider}.baseUrl" in str(caught.value)


async def test_cancelling_the_call_aborts_the_request(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add(Reply(text="too late", delay_s=60))
    provider = make_provider(api, server, accounts_store, monkeypatch)
    task = asyncio.create_task(complete(provider))
    await asyncio.to_thread(server.wait_for_requests, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_custom_base_url_needs_no_key(
    api: Api, server: FakeModelServer, accounts_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local OpenAI-compatible servers (Ollama, vLLM...) take no key."""
    server.add(Reply(text="local"))
    provider = make_provider(api, server, accounts_store, monkeypatch, keys={})
    assert (await complete(provider)).text == "local"
    assert server.api_keys == ["no-key"]
