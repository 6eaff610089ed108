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
from typing import TYPE_CHECKING, Any

from devfactory.protocol.settings import ProviderSettings

from .accounts import Account, AccountPool
from .base import Message, TextCallback, ToolCall, ToolSpec, Turn, Usage
from .sdk import import_sdk, parse_tool_arguments, to_provider_error

if TYPE_CHECKING:
    from openai import AsyncOpenAI

DEFAULT_ENDPOINT = "https://api.openai.com/v1"


class OpenAIProvider:
    """A ChatProvider over the Chat Completions API."""

    def __init__(
        self, *, model: str, settings: ProviderSettings, pool: AccountPool, name: str = "openai"
    ) -> None:
        self.name = name
        self.model: str | None = model
        self._settings = settings
        self._pool = pool
        self._clients: dict[int, AsyncOpenAI] = {}

    @property
    def endpoint(self) -> str:
        return self._settings.base_url or DEFAULT_ENDPOINT

    async def complete(
        self, messages: list[Message], tools: list[ToolSpec], on_text: TextCallback
    ) -> Turn:
        sdk = await import_sdk("openai", self.name)
        request: dict[str, Any] = {
            "model": self.model,
            "messages": to_openai_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:  # the API refuses an empty tool list
            request["tools"] = to_openai_tools(tools)

        async def attempt(account: Account) -> Turn:
            try:
                stream = await self._client(sdk, account).chat.completions.create(**request)
                async with stream:
                    return await _collect(stream, on_text)
            except sdk.APIError as exc:
                raise to_provider_error(
                    exc, sdk, provider=self.name, account=account.label, endpoint=self.endpoint
                ) from None

        return await self._pool.run(attempt)

    async def aclose(self) -> None:
        """Close the HTTP connections of every account's client."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()

    def _client(self, sdk: ModuleType, account: Account) -> AsyncOpenAI:
        client = self._clients.get(account.id)
        if client is None:
            client = sdk.AsyncOpenAI(
                # Local servers take no key, but the SDK insists on one.
                api_key=account.key or "no-key",
                base_url=self._settings.base_url,
                timeout=self._settings.timeout_s,
                max_retries=0,
            )
            self._clients[account.id] = client
        return client


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
            usage = Usage(
                input_tokens=chunk.usage.prompt_tokens or 0,
                output_tokens=chunk.usage.completion_tokens or 0,
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
