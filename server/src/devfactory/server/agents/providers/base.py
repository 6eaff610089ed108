"""The provider interface.

Two kinds of provider drive a run:

* ``ChatProvider`` (openai, anthropic, scripted): one model turn at a time. The daemon's agent
  loop sends the conversation and the tool specs, streams the text through ``on_text``, and
  executes the tool calls the turn returns.
* ``AutonomousProvider`` (claude_code, local_shell): an external agent that works in the run's
  worktree by itself; the daemon streams its output as events and proposes the worktree diff.

Errors are typed so the run controller can react: ``RateLimited`` rotates to the next account,
``ProviderUnavailable`` fails the run with a message saying what to configure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec


class ToolSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A tool offered to the model; ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


class ToolCall(msgspec.Struct, kw_only=True):
    id: str
    name: str
    arguments: dict[str, Any] = {}


class Message(msgspec.Struct, kw_only=True):
    """One entry of the conversation, provider-neutral."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = []
    tool_call_id: str | None = None
    """For ``role == "tool"``: the call this message answers."""
    name: str | None = None
    """For ``role == "tool"``: the tool's name."""
    summarized_turns: int = 0
    """Not 0: a summary DevFactory wrote in place of this many earlier assistant turns, to
    fit the context window (agents/compaction.py)."""
    paths: list[str] = []
    """Files this (user) message attaches: the project rules scoped to them apply."""


class Usage(msgspec.Struct, kw_only=True):
    input_tokens: int = 0
    """Prompt tokens, the cached ones included."""
    output_tokens: int = 0
    cached_input_tokens: int = 0
    """Of ``input_tokens``, those read from the provider's prompt cache (cheaper)."""
    cost_usd: float | None = None
    """What the provider itself reported (claude_code); else the price table's answer."""


class Turn(msgspec.Struct, kw_only=True):
    """What the model answered in one turn."""

    text: str = ""
    tool_calls: list[ToolCall] = []
    usage: Usage = msgspec.field(default_factory=Usage)
    stop_reason: str | None = None


TextCallback = Callable[[str], None]


class ProviderError(RuntimeError):
    """The provider failed; the message is safe to show (it never contains a key)."""


class ProviderUnavailable(ProviderError):
    """The provider cannot be used as configured (no key, no executable, bad base URL)."""


class RateLimited(ProviderError):
    """429 / overloaded: this account should rest until ``retry_after`` seconds from now."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AllAccountsExhausted(ProviderError):
    """Every account of the provider is rate limited; ``retry_after`` is the soonest rest end."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class ChatProvider(Protocol):
    name: str
    model: str | None

    async def complete(
        self, messages: list[Message], tools: list[ToolSpec], on_text: TextCallback
    ) -> Turn:
        """One model turn. Cancelling the awaiting task must abort the request at once."""
        ...


class AutonomousTask(msgspec.Struct, kw_only=True):
    """What an autonomous provider gets to work on."""

    run_id: int
    prompt: str
    worktree: Path
    model: str | None = None
    resume_session_id: str | None = None


class AutonomousResult(msgspec.Struct, kw_only=True):
    summary: str
    session_id: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    exit_code: int | None = None


OutputCallback = Callable[[str, str], Awaitable[None]]
"""``(stream, text)``: a piece of the external agent's output (stream is stdout or stderr)."""

MessageCallback = Callable[[str], Awaitable[None]]
"""A complete assistant message from the external agent (persisted as ai_message)."""


@runtime_checkable
class AutonomousProvider(Protocol):
    name: str
    model: str | None

    async def run_task(
        self,
        task: AutonomousTask,
        on_output: OutputCallback,
        on_message: MessageCallback,
        cancel: asyncio.Event,
    ) -> AutonomousResult:
        """Work on the task in ``task.worktree`` until done or ``cancel`` is set
        (then kill the process group at once and raise ``asyncio.CancelledError``)."""
        ...
