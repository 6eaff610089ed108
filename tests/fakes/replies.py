"""Provider-neutral scripted answers for the fake model servers.

The same script drives the OpenAI and the Anthropic fake: each server renders a ``Reply``
in its own wire format (SSE chunks, tool-call deltas, usage) and an ``ErrorReply`` as its
own error body with the real status code and headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCallReply:
    """A tool call the fake model makes; ``id`` defaults to one derived from its position."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    raw_arguments: str | None = None
    """Sent instead of ``arguments`` as JSON: lets a test stream malformed arguments."""

    @property
    def wire_arguments(self) -> str:
        return json.dumps(self.arguments) if self.raw_arguments is None else self.raw_arguments


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error answer, e.g. ``ErrorReply(429, retry_after=2)``."""

    status: int
    message: str = "scripted error"
    retry_after: float | None = None
    """Sent as the ``retry-after`` header (seconds) when set."""


@dataclass(frozen=True)
class Reply:
    """One streamed model turn."""

    text: str = ""
    tool_calls: list[ToolCallReply] = field(default_factory=list)
    input_tokens: int = 11
    output_tokens: int = 7
    cached_input_tokens: int = 0
    """Of ``input_tokens``, those read from the prompt cache (reported the wire's way)."""
    chunk_size: int = 5
    """Text and tool arguments are split into deltas of this many characters."""
    delay_s: float = 0.0
    """Wait this long before the response headers (lets tests cancel a request in flight)."""
    stop_reason: str | None = None
    """Overrides the wire stop reason (default: tool calls if any, else end of turn)."""
    stream_error: ErrorReply | None = None
    """Sent as an error event after the text, ending the stream (e.g. overloaded mid-answer)."""


def call(name: str, /, **arguments: Any) -> ToolCallReply:
    """Shorthand: ``call("read_file", path="calc.py")``."""
    return ToolCallReply(name=name, arguments=arguments)


def rate_limited(retry_after: float | None = 1.0) -> ErrorReply:
    return ErrorReply(429, "Rate limit reached; try again later.", retry_after)


@dataclass(frozen=True)
class RecordedRequest:
    """What the fake received: the path, the headers (lower-cased names) and the JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def api_key(self) -> str | None:
        """The key the client sent (``Authorization: Bearer`` or ``x-api-key``)."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


Scripted = Reply | ErrorReply | Callable[[RecordedRequest], "Reply | ErrorReply"]
"""A script entry: a fixed answer or a function of the request (e.g. 429 for one key only)."""


def chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(size, 1))]
