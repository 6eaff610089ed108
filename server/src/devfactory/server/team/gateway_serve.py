"""``devfactory gateway``'s transport: JSON-RPC over WebSocket with TLS (``websockets``).

The token is checked at the handshake (``Authorization: Bearer dft_...``; a missing or dead
token is a 401 naming why, audited) and again for every request (a token revoked while
connected stops working at its next request). Frames are bounded as on stdio: a message
over ``MAX_MESSAGE_BYTES`` closes the connection (1009), params nested too deep are refused
by the daemon's own checks. Each client has a bounded queue of outgoing messages: a client
that stops reading is disconnected (1013) rather than allowed to hold the gateway's memory;
it reconnects and replays with ``devfactory/events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..transport import MAX_MESSAGE_BYTES
from .gateway import Gateway

log = logging.getLogger(__name__)

MAX_QUEUED_MESSAGES = 50_000
"""Messages waiting for one slow client before it is disconnected."""
TOO_SLOW = 1013
"""WebSocket close code "try again later": the client fell too far behind."""


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server side of TLS 1.2+ with ``cert`` (a PEM chain) and its ``key``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class GatewayServer:
    """Accepts clients for one :class:`Gateway`."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._server: Server | None = None

    async def start(self, host: str, port: int, tls: ssl.SSLContext | None) -> int:
        """Listen; returns the port (``port=0`` picks a free one)."""
        self._server = await serve(
            self._serve_client,
            host,
            port,
            ssl=tls,
            process_request=self._check_token,
            max_size=MAX_MESSAGE_BYTES,
            compression=None,  # JSON-RPC on a LAN: latency over bytes
            server_header=None,
        )
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _check_token(self, connection: ServerConnection, request: Request) -> Response | None:
        token = bearer(request.headers)
        if token is None:
            return connection.respond(
                HTTPStatus.UNAUTHORIZED,
                "send the header Authorization: Bearer <token> (devfactory token create)\n",
            )
        record, problem = await self.gateway.authority.identify(token)
        if problem is not None:
            await self.gateway.workspace.store.audit.record(
                token_id=None if record is None else record.id,
                token_name="" if record is None else record.name,
                method="connect", ability="read", allowed=False, reason=problem,
            )  # fmt: skip
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"{problem}\n")
        if record is not None:
            await self.gateway.workspace.store.api_tokens.mark_used(record.id)
        return None

    async def _serve_client(self, connection: ServerConnection) -> None:
        token = bearer(connection.request.headers) if connection.request else None
        assert token is not None  # _check_token let it in
        outgoing: asyncio.Queue[bytes] = asyncio.Queue(MAX_QUEUED_MESSAGES)
        behind = asyncio.Event()

        def send(data: bytes) -> None:
            try:
                outgoing.put_nowait(data)
            except asyncio.QueueFull:
                behind.set()

        async def write() -> None:
            while True:
                data = await outgoing.get()
                await connection.send(data, text=True)

        async def answer(body: str | bytes) -> None:
            response = await self.gateway.handle(token, body)
            if response is not None:
                send(response)

        async def disconnect_when_behind() -> None:
            await behind.wait()
            log.warning("a client fell %d messages behind; disconnected", MAX_QUEUED_MESSAGES)
            await connection.close(TOO_SLOW, "too far behind: reconnect and replay")

        detach = self.gateway.attach(send)
        writer = asyncio.create_task(write(), name="gateway-writer")
        watchdog = asyncio.create_task(disconnect_when_behind(), name="gateway-behind")
        requests: set[asyncio.Task[None]] = set()
        try:
            async for body in connection:
                task = asyncio.create_task(answer(body), name="gateway-request")
                requests.add(task)
                task.add_done_callback(requests.discard)
        except ConnectionClosed:
            pass
        finally:
            detach()
            for task in (writer, watchdog, *requests):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await asyncio.gather(writer, watchdog, *requests, return_exceptions=True)
