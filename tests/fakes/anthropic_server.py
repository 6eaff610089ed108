"""A fake Anthropic Messages endpoint speaking the streaming wire format.

``POST /v1/messages`` with ``stream: true`` answers with the real event sequence:
``message_start`` (input usage), then per content block ``content_block_start``,
``content_block_delta`` (``text_delta`` pieces, or ``input_json_delta`` pieces of a
tool_use's input) and ``content_block_stop``, a ``ping``, ``message_delta`` (stop_reason and
output usage) and ``message_stop``. Errors use Anthropic's ``{"type": "error", ...}`` body;
status 529 is ``overloaded_error``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .http_server import FakeModelServer
from .replies import ErrorReply, RecordedRequest, Reply, chunks

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _event(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": name, "data": {"type": name, **data}}


class FakeAnthropic(FakeModelServer):
    api_path = "/v1/messages"

    def render(self, reply: Reply, request: RecordedRequest) -> Iterator[dict[str, Any]]:
        number = len(self.requests)
        message = {
            "id": f"msg_{number}",
            "type": "message",
            "role": "assistant",
            "model": request.body.get("model", "fake-model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {  # Anthropic counts cache reads apart from the other input tokens
                "input_tokens": reply.input_tokens - reply.cached_input_tokens,
                "cache_read_input_tokens": reply.cached_input_tokens,
                "output_tokens": 1,
            },
        }
        yield _event("message_start", {"message": message})
        index = 0
        if reply.text:
            text_block = {"type": "text", "text": ""}
            yield _event("content_block_start", {"index": index, "content_block": text_block})
            yield _event("ping", {})
            for piece in chunks(reply.text, reply.chunk_size):
                delta = {"type": "text_delta", "text": piece}
                yield _event("content_block_delta", {"index": index, "delta": delta})
            yield _event("content_block_stop", {"index": index})
            index += 1
        if reply.stream_error is not None:
            yield {"event": "error", "data": self.error_body(reply.stream_error)}
            return
        for position, tool_call in enumerate(reply.tool_calls):
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": tool_call.id or f"toolu_{number}_{position}",
                "name": tool_call.name,
                "input": {},
            }
            yield _event("content_block_start", {"index": index, "content_block": block})
            for piece in chunks(tool_call.wire_arguments, reply.chunk_size):
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield _event("content_block_delta", {"index": index, "delta": delta})
            yield _event("content_block_stop", {"index": index})
            index += 1
        stop_reason = reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn")
        yield _event(
            "message_delta",
            {
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        )
        yield _event("message_stop", {})

    def error_body(self, error: ErrorReply) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(error.status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": error.message}}
