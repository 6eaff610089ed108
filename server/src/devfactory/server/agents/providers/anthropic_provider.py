"""``anthropic``: the Messages API with streaming and tool use, through the ``anthropic`` SDK.

The raw event stream is consumed directly: ``text_delta`` pieces go to ``on_text`` as they
arrive and ``input_json_delta`` pieces are joined per content block into tool calls, parsed
once at the end (the SDK's helper re-parses the partial JSON on every delta). System
messages become the ``system`` parameter; our ``tool`` messages become ``tool_result`` blocks
in a user turn, consecutive ones merged as the API requires. 429 and 529 (overloaded), also
as a mid-stream ``error`` event, go back to the account pool as RateLimited.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .base import Message, TextCallback, ToolCall, ToolSpec, Turn, Usage
from .request import Provider, ProviderRequest
from .sdk import parse_tool_arguments
from .sdk_provider import SdkChatProvider

MAX_OUTPUT_TOKENS = 8192
"""The API requires a cap; every current model accepts this one."""


class AnthropicProvider(SdkChatProvider):
    """A ChatProvider over the Messages API."""

    sdk_module = "anthropic"
    default_endpoint = "https://api.anthropic.com"

    def build_request(self, messages: list[Message], tools: list[ToolSpec]) -> dict[str, Any]:
        system, conversation = to_anthropic_messages(messages)
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": MAX_OUTPUT_TOKENS,
            "messages": conversation,
            "stream": True,
        }
        if system:
            request["system"] = system
        if tools:
            request["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
        return request

    def make_client(self, sdk: ModuleType, api_key: str) -> Any:
        return sdk.AsyncAnthropic(
            api_key=api_key,
            base_url=self.settings.base_url,
            timeout=self.settings.timeout_s,
            max_retries=0,
        )

    async def open_stream(self, client: Any, request: dict[str, Any]) -> Any:
        return await client.messages.create(**request)

    async def collect(self, stream: Any, on_text: TextCallback) -> Turn:
        return await _collect(stream, on_text)


async def _collect(stream: Any, on_text: TextCallback) -> Turn:
    """Assemble one turn from the raw stream events, streaming text as it comes."""
    text: list[str] = []
    tool_blocks: dict[int, tuple[str, str, list[str]]] = {}
    input_tokens = output_tokens = cached_tokens = 0
    stop_reason: str | None = None
    async for event in stream:
        kind = event.type
        if kind == "message_start":
            input_tokens = _input_tokens(event.message.usage)
            cached_tokens = getattr(event.message.usage, "cache_read_input_tokens", None) or 0
        elif kind == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            tool_blocks[event.index] = (block.id, block.name, [])
        elif kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                text.append(delta.text)
                on_text(delta.text)
            elif delta.type == "input_json_delta" and event.index in tool_blocks:
                tool_blocks[event.index][2].append(delta.partial_json)
        elif kind == "message_delta":
            stop_reason = event.delta.stop_reason or stop_reason
            output_tokens = event.usage.output_tokens or output_tokens
            input_tokens = _input_tokens(event.usage) or input_tokens
    calls = [
        ToolCall(id=call_id, name=name, arguments=parse_tool_arguments("".join(pieces)))
        for _, (call_id, name, pieces) in sorted(tool_blocks.items())
    ]
    usage = Usage(
        input_tokens=input_tokens, output_tokens=output_tokens, cached_input_tokens=cached_tokens
    )
    return Turn(text="".join(text), tool_calls=calls, usage=usage, stop_reason=stop_reason)


def _input_tokens(usage: Any) -> int:
    """Prompt tokens, cached ones included (they still fill the context window)."""
    return sum(
        getattr(usage, field, None) or 0
        for field in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def to_anthropic_messages(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt and the alternating user/assistant turns the Messages API takes."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system.append(message.content)
            continue
        blocks: list[dict[str, Any]] = []
        if message.role == "tool":
            result = {"type": "tool_result", "tool_use_id": message.tool_call_id}
            blocks.append({**result, "content": message.content} if message.content else result)
        elif message.content:  # the API refuses empty text blocks
            blocks.append({"type": "text", "text": message.content})
        for call in message.tool_calls:
            blocks.append(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            )
        if not blocks:
            continue
        role = "assistant" if message.role == "assistant" else "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return "\n\n".join(system), turns


def build(request: ProviderRequest) -> Provider:
    pool = request.pool(keyless=request.config.base_url is not None)
    return AnthropicProvider(
        name=request.name, model=request.required_model(), settings=request.config, pool=pool
    )
