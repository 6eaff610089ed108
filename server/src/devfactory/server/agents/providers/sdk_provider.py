"""``SdkChatProvider``: one streamed model turn over an HTTP SDK, on the next rested account.

The ``openai`` and ``anthropic`` providers differ only in the request they build, the call
that opens the stream and how they read it; the rest lives here: the lazy SDK import, one
client per account (built in a worker thread, since creating its TLS context takes about
100 ms), account rotation, and mapping SDK errors to our typed, key-free errors.

A turn cut short by an overloaded error mid-stream is asked again of the next account: the
returned Turn holds only the complete answer, though the live ``on_text`` preview has already
shown the abandoned beginning.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from types import ModuleType
from typing import Any

from devfactory.protocol.settings import ProviderSettings

from .accounts import Account, AccountPool
from .base import Message, TextCallback, ToolSpec, Turn
from .sdk import import_sdk, to_provider_error


class SdkChatProvider(ABC):
    """A ChatProvider over a Stainless-generated SDK; subclasses speak one API."""

    sdk_module: str
    """The SDK's import name."""
    default_endpoint: str
    """The base URL the SDK uses when ``providers.<name>.baseUrl`` is not set."""

    def __init__(
        self, *, name: str, model: str, settings: ProviderSettings, pool: AccountPool
    ) -> None:
        self.name = name
        self.model: str | None = model
        self.settings = settings
        self._pool = pool
        self._clients: dict[int, Any] = {}

    @property
    def endpoint(self) -> str:
        return self.settings.base_url or self.default_endpoint

    # -- what each API defines ------------------------------------------------------------

    @abstractmethod
    def build_request(self, messages: list[Message], tools: list[ToolSpec]) -> dict[str, Any]: ...

    @abstractmethod
    def make_client(self, sdk: ModuleType, api_key: str) -> Any: ...

    @abstractmethod
    async def open_stream(self, client: Any, request: dict[str, Any]) -> Any: ...

    @abstractmethod
    async def collect(self, stream: Any, on_text: TextCallback) -> Turn: ...

    # -- shared -------------------------------------------------------------------------------

    async def complete(
        self, messages: list[Message], tools: list[ToolSpec], on_text: TextCallback
    ) -> Turn:
        sdk = await import_sdk(self.sdk_module, self.name)
        request = self.build_request(messages, tools)

        async def attempt(account: Account) -> Turn:
            client = await self._client(sdk, account)
            try:
                stream = await self.open_stream(client, request)
                async with stream:
                    return await self.collect(stream, on_text)
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

    async def _client(self, sdk: ModuleType, account: Account) -> Any:
        client = self._clients.get(account.id)
        if client is None:
            # Local servers take no key, but the SDKs insist on one.
            api_key = account.key or "no-key"
            client = await asyncio.to_thread(self.make_client, sdk, api_key)
            self._clients[account.id] = client
        return client
