"""``GatewayClient``: ``devfactory/*`` requests to a gateway over WebSocket with TLS.

The same calls as the stdio ``DaemonClient`` (``request``, ``call``, ``on_notification``), so
the CLI, CI scripts, the benchmarks and the local daemon's bridge speak to a gateway the way
they speak to a daemon. It connects directly (never through a proxy from the environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from devfactory.protocol.client import NotificationHandler, notify, settle
from devfactory.protocol.methods import REQUESTS

from ..transport import MAX_MESSAGE_BYTES

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def client_tls(ca_file: str | Path | None) -> ssl.SSLContext:
    """Verifies the gateway's certificate: against ``ca_file`` when given, else the system's."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class GatewayClient:
    """One connection to a gateway."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._handlers: list[NotificationHandler] = []
        self._reader = asyncio.create_task(self._read_loop(), name="gateway-client")

    @classmethod
    async def connect(cls, url: str, token: str, *, ca_file: str | Path | None = None) -> Self:
        """Connect to ``url`` (``wss://host:port``) with an API token; ConnectionError saying
        why when the gateway refuses it."""
        tls = client_tls(ca_file) if url.startswith("wss://") else None
        try:
            connection = await connect(
                url,
                ssl=tls,
                additional_headers={"Authorization": f"Bearer {token}"},
                max_size=MAX_MESSAGE_BYTES,
                compression=None,
                proxy=None,
            )
        except InvalidStatus as exc:
            reason = exc.response.body.decode("utf-8", "replace").strip()
            raise ConnectionError(f"the gateway {url} refused the connection: {reason}") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectionError(f"cannot reach the gateway {url}: {exc}") from None
        return cls(connection)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    def on_notification(self, handler: NotificationHandler) -> Callable[[], None]:
        """Call ``handler(method, params)`` for each notification (typed when the protocol
        knows the method); returns the unsubscribe."""
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request; its raw (JSON-decoded) result, or RpcError."""
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = msgspec.to_builtins(params)
        try:
            await self.connection.send(_encoder.encode(message), text=True)
        except ConnectionClosed as exc:
            self._pending.pop(msg_id, None)
            raise ConnectionError(f"the gateway closed the connection: {exc}") from None
        return await future

    async def call(self, method: str, params: Any = None) -> Any:
        """A ``devfactory/*`` request, its result decoded into the contract's type."""
        raw = await self.request(method, params if params is not None else {})
        return msgspec.convert(raw, REQUESTS[method].result)

    async def _read_loop(self) -> None:
        reason = "the gateway closed the connection"
        try:
            async for body in self.connection:
                self._dispatch(_decoder.decode(body))
        except ConnectionClosed as exc:
            reason = f"{reason}: {exc}"
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(reason))
            self._pending.clear()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message:
            notify(self._handlers, message["method"], message.get("params"))
        else:
            settle(self._pending, message)
