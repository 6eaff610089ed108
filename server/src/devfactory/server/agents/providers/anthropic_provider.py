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
from typing import TYPE_CHECKING, Any

from devfactory.protocol.settings import ProviderSettings

from .accounts import Account, AccountPool
from .base import Message, TextCallback, ToolCall, ToolSpec, Turn, Usage
from .sdk import import_sdk, parse_tool_arguments, to_provider_error

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

DEFAULT_ENDPOINT = "https://api.anthropic.com"
MAX_OUTPUT_TOKENS = 8192
"""The API requires a cap; every current model accepts this one."""


class AnthropicProvider:
    """A ChatProvider over the Messages API."""

    def __init__(
        self,
        *,
        model: str,
        settings: ProviderSettings,
        pool: AccountPool,
        name: str = "anthropic",
    ) -> None:
        self.name = name
        self.model: str | None = model
        self._settings = settings
        self._pool = pool
        self._clients: dict[int, AsyncAnthropic] = {}

    @property
    def endpoint(self) -> str:
        return self._settings.base_url or DEFAULT_ENDPOINT

    async def complete(
        self, messages: list[Message], tools: list[ToolSpec], on_text: TextCallback
    ) -> Turn:
        sdk = await import_sdk("anthropic", self.name)
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

        async def attempt(account: Account) -> Turn:
            try:
                stream = await self._client(sdk, account).messages.create(**request)
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

    def _client(self, sdk: ModuleType, account: Account) -> AsyncAnthropic:
        client = self._clients.get(account.id)
        if client is None:
            client = sdk.AsyncAnthropic(
                api_key=account.key or "no-key",
                base_url=self._settings.base_url,
                timeout=self._settings.timeout_s,
                max_retries=0,
            )
            self._clients[account.id] = client
        return client


async def _collect(stream: Any, on_text: TextCallback) -> Turn:
    """Assemble one turn from the raw stream events, streaming text as it comes."""
    text: list[str] = []
    tool_blocks: dict[int, tuple[str, str, list[str]]] = {}
    input_tokens = output_tokens = 0
    stop_reason: str | None = None
    async for event in stream:
        kind = event.type
        if kind == "message_start":
            input_tokens = _input_tokens(event.message.usage)
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
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
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
