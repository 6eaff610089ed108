"""A raw-stdio client for hostile-input tests: any frame, any envelope, every reply kept.

It is the protocol package's client (spawn, handshake, typed calls) plus three things an
editor never does: write arbitrary bytes, send a message of any shape and wait for the reply
with its id, and keep every message the daemon sent (to check for dialogs and tracebacks).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import msgspec

from devfactory.protocol.client import DaemonClient

OMIT: Any = object()
"""``params`` value meaning: leave the key out of the message."""

_ids = itertools.count(1)


def frame(body: bytes) -> bytes:
    """``body`` with a correct LSP header."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class WireClient(DaemonClient):
    """One daemon process, driven byte by byte when a test needs to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[dict[str, Any]] = []
        """Every message the daemon sent, in order (notifications, requests, responses)."""
        self._raw_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def _dispatch(self, message: Any) -> None:
        self.received.append(message)
        if isinstance(message, dict) and "method" not in message:
            waiter = self._raw_waiters.pop(str(message.get("id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(message)
                return
        await super()._dispatch(message)

    async def write(self, data: bytes) -> None:
        """Bytes to the daemon's stdin, as they are."""
        assert self.process.stdin is not None
        async with self._write_lock:
            self.process.stdin.write(data)
            await self.process.stdin.drain()

    async def exchange(
        self, method: str, params: Any = OMIT, *, timeout: float = 15, **envelope: Any
    ) -> dict[str, Any]:
        """Send a request (``envelope`` overrides or adds top-level keys) and return the
        daemon's whole response: ``{"id", "result"}`` or ``{"id", "error"}``."""
        msg_id = f"wire-{next(_ids)}"
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not OMIT:
            message["params"] = params
        message.update(envelope)
        return await self.exchange_body(msgspec.json.encode(message), msg_id, timeout=timeout)

    async def exchange_body(
        self, body: bytes, msg_id: str, *, timeout: float = 15
    ) -> dict[str, Any]:
        """Send ``body`` (any bytes) in a correct frame; wait for the response to ``msg_id``."""
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._raw_waiters[msg_id] = waiter
        await self.write(frame(body))
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self._raw_waiters.pop(msg_id, None)

    def errors_without_id(self) -> list[dict[str, Any]]:
        """Error responses to messages whose id could not be read (``"id": null``)."""
        return [m for m in self.received if "error" in m and m.get("id") is None]

    def dialogs(self) -> list[dict[str, Any]]:
        """``window/showMessage`` notifications: what pops up in the editor."""
        return [m for m in self.received if m.get("method") == "window/showMessage"]


def has_traceback(message: dict[str, Any]) -> bool:
    """Whether a response carries a Python traceback anywhere (it must not)."""
    text = msgspec.json.encode(message).decode()
    return "Traceback" in text or '"traceback"' in text or 'File \\"' in text
