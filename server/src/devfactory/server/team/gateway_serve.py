"""``devfactory gateway``'s transport: JSON-RPC over WebSocket with TLS (``websockets``).

The token is checked at the handshake (``Authorization: Bearer dft_...``; a missing or dead
token is a 401 naming why) and again for every request (a token revoked while connected
stops working at its next request). Anyone who can reach the port can knock, so refused
handshakes are audited sparingly: a malformed token (``tokens.format_problem``) is only
logged, at most once a minute; a well-formed unknown or revoked one gets an audit row, at most
``MAX_AUDITED_KNOCKS`` a minute (the rest are counted into the next row).

Frames are bounded as on stdio: a message over ``MAX_MESSAGE_BYTES`` closes the connection
(1009), params nested too deep are refused by the daemon's own checks. A client has at most
``max_in_flight`` requests being answered (the gateway stops reading its frames until one
is done) and an outgoing queue bounded in bytes: a client that stops reading is disconnected
(1013) rather than allowed to hold the gateway's memory; it reconnects and replays with
``devfactory/events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..transport import MAX_MESSAGE_BYTES
from . import tokens
from .gateway import Gateway

log = logging.getLogger(__name__)

MAX_QUEUED_BYTES = MAX_MESSAGE_BYTES
"""Bytes of messages waiting for one slow client before it is disconnected (one answer as
large as the largest request the gateway accepts still fits)."""
MAX_IN_FLIGHT = 32
"""Requests of one client being answered at once; its next frames wait unread."""
MAX_AUDITED_KNOCKS = 10
"""Refused handshakes with a well-formed token written to the audit log per minute."""
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


class Outbox:
    """One client's outgoing messages, bounded by their bytes: past ``max_bytes`` it drops
    them all and sets ``overflowed`` (the client is then disconnected)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.queued_bytes = 0
        self.overflowed = asyncio.Event()
        self._messages: deque[bytes] = deque()
        self._ready = asyncio.Event()

    def put(self, data: bytes) -> None:
        if self.overflowed.is_set():
            return
        if self.queued_bytes + len(data) > self.max_bytes:
            self._messages.clear()
            self.queued_bytes = 0
            self.overflowed.set()
            return
        self._messages.append(data)
        self.queued_bytes += len(data)
        self._ready.set()

    async def get(self) -> bytes:
        while not self._messages:
            self._ready.clear()
            await self._ready.wait()
        data = self._messages.popleft()
        self.queued_bytes -= len(data)
        return data


class Budget:
    """At most ``per_minute`` of something a minute; ``take`` says whether this one fits and
    how many were refused since the last that did."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._window = -60.0
        self._taken = 0
        self._skipped = 0

    def take(self) -> tuple[bool, int]:
        now = self._clock()
        if now - self._window >= 60:
            self._window, self._taken = now, 0
        if self._taken >= self.per_minute:
            self._skipped += 1
            return False, 0
        self._taken += 1
        skipped, self._skipped = self._skipped, 0
        return True, skipped


class GatewayServer:
    """Accepts clients for one :class:`Gateway`."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        max_queued_bytes: int = MAX_QUEUED_BYTES,
        max_in_flight: int = MAX_IN_FLIGHT,
        audited_knocks: int = MAX_AUDITED_KNOCKS,
    ) -> None:
        self.gateway = gateway
        self.max_queued_bytes = max_queued_bytes
        self.max_in_flight = max_in_flight
        self._server: Server | None = None
        self._audited_knocks = Budget(audited_knocks)
        """Refused handshakes with a well-formed token that get an audit row."""
        self._logged_malformed = Budget(1)
        """Refused handshakes with a malformed token that get a log line (never a row)."""

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
        if (malformed := tokens.format_problem(token)) is not None:
            logged, skipped = self._logged_malformed.take()
            if logged:
                more = f" ({skipped} more since the last line)" if skipped else ""
                log.warning("refused a handshake with a malformed token: %s%s", malformed, more)
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"{malformed}\n")
        record, problem = await self.gateway.authority.identify(token)
        if problem is not None:
            audited, skipped = self._audited_knocks.take()
            if audited:
                more = f" ({skipped} more refused handshakes not recorded)" if skipped else ""
                await self.gateway.workspace.store.audit.record(
                    token_id=None if record is None else record.id,
                    token_name="" if record is None else record.name,
                    method="connect", ability="read", allowed=False, reason=problem + more,
                )  # fmt: skip
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"{problem}\n")
        if record is not None:
            await self.gateway.workspace.store.api_tokens.mark_used(record.id)
        return None

    async def _serve_client(self, connection: ServerConnection) -> None:
        token = bearer(connection.request.headers) if connection.request else None
        assert token is not None  # _check_token let it in
        outbox = Outbox(self.max_queued_bytes)
        slots = asyncio.Semaphore(self.max_in_flight)

        async def write() -> None:
            while True:
                await connection.send(await outbox.get(), text=True)

        async def answer(body: str | bytes) -> None:
            try:
                response = await self.gateway.handle(token, body)
                if response is not None:
                    outbox.put(response)
            finally:
                slots.release()

        async def disconnect_when_behind() -> None:
            await outbox.overflowed.wait()
            log.warning("a client fell %d bytes behind; disconnected", self.max_queued_bytes)
            await connection.close(TOO_SLOW, "too far behind: reconnect and replay")

        detach = self.gateway.attach(outbox.put)
        writer = asyncio.create_task(write(), name="gateway-writer")
        watchdog = asyncio.create_task(disconnect_when_behind(), name="gateway-behind")
        requests: set[asyncio.Task[None]] = set()
        try:
            async for body in connection:
                await slots.acquire()  # a client with too many in flight is not read
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
