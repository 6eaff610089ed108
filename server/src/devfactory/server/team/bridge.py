"""``GatewayBridge``: the local daemon's connection to its team's gateway.

With ``[team] gateway = "wss://..."`` the editor keeps speaking stdio to its local daemon; the
methods of :data:`.scope.BRIDGED` (runs, questions, events, changes, reviews) are forwarded
to the gateway as they are (params unchanged, result or error returned as the gateway gave
it), and the gateway's notifications (``devfactory/event``, ``runChanged``...) are relayed to
the editor, so replay-then-live works against the gateway's events table. The token comes
from ``DEVFACTORY_TOKEN`` or a token file only the user can read, never from devfactory.toml.

The connection is made on first use and again after it drops; a gateway that cannot be
reached is an ``Unavailable`` error naming it, never a silent fall back to local state.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcException

from devfactory.protocol.errors import RpcError
from devfactory.protocol.settings import TeamSettings

from ..errors import Unavailable
from ..paths import team_token_file

if TYPE_CHECKING:
    from .gateway_client import GatewayClient

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "DEVFACTORY_TOKEN"

Relay = Callable[[str, Any], None]
"""Sends a gateway notification on to the editor."""


def read_token(settings: TeamSettings) -> str:
    """The API token: ``DEVFACTORY_TOKEN``, else the token file (which only its owner may
    read); Unavailable saying where to put one."""
    if token := os.environ.get(TOKEN_VARIABLE, "").strip():
        return token
    path = team_token_file(settings.token_file)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise Unavailable(
            f"team mode needs an API token for {settings.gateway}: set {TOKEN_VARIABLE} or "
            f"write it to {path} (chmod 600); `devfactory token create` on the gateway makes one"
        ) from None
    if mode & 0o077:
        raise Unavailable(f"the token file {path} may be read by others: chmod 600 {path}")
    return path.read_text("utf-8").strip()


class GatewayBridge:
    """Forwards the shared methods to the gateway and relays its notifications."""

    def __init__(self, settings: TeamSettings, relay: Relay) -> None:
        self.url = settings.gateway or ""
        self.enabled = settings.gateway is not None
        """False without ``[team] gateway``: every method is then answered locally."""
        self.settings = settings
        self._relay = relay
        self._client: GatewayClient | None = None
        self._connecting = asyncio.Lock()

    async def client(self) -> GatewayClient:
        """The live connection (made now if there is none)."""
        async with self._connecting:
            if self._client is not None and self._client.connection.state.name == "OPEN":
                return self._client
            from .gateway_client import GatewayClient  # websockets: only in team mode

            token = read_token(self.settings)
            try:
                client = await GatewayClient.connect(self.url, token, ca_file=self.settings.ca_file)
            except ConnectionError as exc:
                raise Unavailable(str(exc)) from None
            client.on_notification(self._relay_ours)
            if self._client is not None:
                log.warning("reconnected to the team gateway %s", self.url)
                await self._client.close()
            self._client = client
            return client

    def _relay_ours(self, method: str, params: Any) -> None:
        """The gateway's ``devfactory/*`` notifications; its log lines stay in its log."""
        if method.startswith("devfactory/"):
            self._relay(method, params)

    async def forward(self, method: str, params: Any) -> Any:
        """The gateway's answer to ``method``; its errors as the same JSON-RPC errors."""
        client = await self.client()
        try:
            return await client.request(method, params if params is not None else {})
        except RpcError as exc:
            raise JsonRpcException(code=exc.code, message=exc.message) from None
        except ConnectionError as exc:
            raise Unavailable(f"the team gateway {self.url}: {exc}") from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
