"""``openai``: Chat Completions with streaming and tool calling, through the ``openai`` SDK.

``base_url`` points it at any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio).
Text deltas stream to ``on_text``; tool calls arrive as deltas keyed by ``index`` (id and name
first, then argument pieces) and are assembled here; usage comes in the last chunk
(``stream_options.include_usage``). The SDK never retries (``max_retries=0``): a 429 goes back
to the account pool, which moves to the next key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .base import Message, TextCallback, ToolCall, ToolSpec, Turn, Usage
from .request import Provider, ProviderRequest
from .sdk import parse_tool_arguments
from .sdk_provider import SdkChatProvider


class OpenAIProvider(SdkChatProvider):
    """A ChatProvider over the Chat Completions API."""

    sdk_module = "openai"
    default_endpoint = "https://api.openai.com/v1"

    def build_request(self, messages: list[Message], tools: list[ToolSpec]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:  # the API refuses an empty tool list
            request["tools"] = to_openai_tools(tools)
        return request

    def make_client(self, sdk: ModuleType, api_key: str) -> Any:
        return sdk.AsyncOpenAI(
            api_key=api_key,
            base_url=self.settings.base_url,
            timeout=self.settings.timeout_s,
            max_retries=0,
        )

    async def open_stream(self, client: Any, request: dict[str, Any]) -> Any:
        return await client.chat.completions.create(**request)

    async def collect(self, stream: Any, on_text: TextCallback) -> Turn:
        return await _collect(stream, on_text)


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


async def _collect(stream: Any, on_text: TextCallback) -> Turn:
    """Assemble one turn from the chunk stream, streaming text as it comes."""
    text: list[str] = []
    calls: dict[int, _PartialCall] = {}
    usage = Usage()
    stop_reason: str | None = None
    async for chunk in stream:
        if chunk.usage is not None:
            details = getattr(chunk.usage, "prompt_tokens_details", None)
            usage = Usage(
                input_tokens=chunk.usage.prompt_tokens or 0,
                output_tokens=chunk.usage.completion_tokens or 0,
                cached_input_tokens=getattr(details, "cached_tokens", None) or 0,
            )
        for choice in (chunk.choices or [])[:1]:
            delta = choice.delta
            if delta.content:
                text.append(delta.content)
                on_text(delta.content)
            for piece in delta.tool_calls or ():
                # Some local servers leave out ``index`` when a call comes whole.
                index = getattr(piece, "index", None)
                index = len(calls) if index is None else index
                call = calls.setdefault(index, _PartialCall())
                call.id = call.id or piece.id or ""
                if piece.function is not None:
                    call.name = call.name or piece.function.name or ""
                    call.arguments += piece.function.arguments or ""
            stop_reason = choice.finish_reason or stop_reason
    tool_calls = [
        ToolCall(
            id=call.id or f"call_{index}",
            name=call.name,
            arguments=parse_tool_arguments(call.arguments),
        )
        for index, call in sorted(calls.items())
    ]
    return Turn(text="".join(text), tool_calls=tool_calls, usage=usage, stop_reason=stop_reason)


def to_openai_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Our conversation in Chat Completions form (tool answers keep their call id)."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            converted.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
        elif message.role == "assistant" and message.tool_calls:
            converted.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {
                                "name": call.name,
                                "arguments": json.dumps(call.arguments),
                            },
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            converted.append({"role": message.role, "content": message.content})
    return converted


def build(request: ProviderRequest) -> Provider:
    # A custom base_url is usually a local server (Ollama, vLLM...) that takes no key.
    pool = request.pool(keyless=request.config.base_url is not None)
    return OpenAIProvider(
        name=request.name, model=request.required_model(), settings=request.config, pool=pool
    )
