"""A fake OpenAI Chat Completions endpoint speaking the streaming wire format.

``POST /v1/chat/completions`` with ``stream: true`` answers with ``chat.completion.chunk``
events: a role delta, content deltas, tool-call deltas (id, type and name in the first
delta of each call, then argument pieces, all keyed by ``index``), a finish_reason chunk,
a usage chunk with empty ``choices`` when ``stream_options.include_usage`` was asked for,
then ``data: [DONE]``. Errors use OpenAI's ``{"error": {...}}`` body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .http_server import FakeModelServer
from .replies import ErrorReply, RecordedRequest, Reply, chunks

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


class FakeOpenAI(FakeModelServer):
    api_path = "/v1/chat/completions"
    url_suffix = "/v1"

    def render(self, reply: Reply, request: RecordedRequest) -> Iterator[dict[str, Any]]:
        model = request.body.get("model", "fake-model")
        number = len(self.requests)

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return {
                "data": {
                    "id": f"chatcmpl-{number}",
                    "object": "chat.completion.chunk",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [choice],
                }
            }

        yield chunk({"role": "assistant", "content": ""})
        for piece in chunks(reply.text, reply.chunk_size):
            yield chunk({"content": piece})
        if reply.stream_error is not None:
            yield {"data": self.error_body(reply.stream_error)}
            return
        for index, tool_call in enumerate(reply.tool_calls):
            head = {
                "index": index,
                "id": tool_call.id or f"call_{number}_{index}",
                "type": "function",
                "function": {"name": tool_call.name, "arguments": ""},
            }
            yield chunk({"tool_calls": [head]})
            for piece in chunks(tool_call.wire_arguments, reply.chunk_size):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        finish = reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")
        yield chunk({}, finish)
        if (request.body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
                "prompt_tokens_details": {"cached_tokens": reply.cached_input_tokens},
            }
            yield {
                "data": {
                    "id": f"chatcmpl-{number}",
                    "object": "chat.completion.chunk",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            }

    def end_of_stream(self) -> bytes:
        return b"data: [DONE]\n\n"

    def error_body(self, error: ErrorReply) -> dict[str, Any]:
        kind = _ERROR_TYPES.get(error.status, "server_error")
        return {"error": {"message": error.message, "type": kind, "param": None, "code": kind}}
