"""``Gateway``: the daemon's ``devfactory/*`` methods served to many remote clients at once.

The gateway builds the very daemon an editor starts (``features.create_server``: the same
features, handlers and param checks) and opens its workspace once, as ``initialize`` would;
its requests are then dispatched to the handlers that daemon registered, after
:class:`~.authority.Authority` has checked the caller's token for the method's ability, and
marked as a remote caller's (:mod:`.callers`: what only the local user may do is refused).
Whatever the daemon sends its client (``devfactory/event``, ``devfactory/runChanged``...) is
sent to every attached client, each through a bounded queue of its own
(:mod:`.gateway_serve`). Events other processes commit (workers, other gateways, local
daemons) reach the event bus through its tail, which PostgreSQL's NOTIFY wakes once per batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, cast

import msgspec
from pygls.exceptions import JsonRpcException

from devfactory.protocol import errors as codes
from devfactory.protocol.methods import REQUESTS

from .. import envelope
from ..app import DevFactoryServer
from ..context import Workspace
from ..errors import Refused
from ..lsp_protocol import DevFactoryProtocol
from ..wiring import Feature
from .authority import Authority
from .callers import remote_caller

log = logging.getLogger(__name__)

Send = Callable[[bytes], None]
"""Queues one encoded message for one client."""

_encoder = msgspec.json.Encoder()


def error_message(msg_id: Any, code: int, message: str) -> bytes:
    return _encoder.encode(
        {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
    )


class _Broadcast:
    """The daemon's writer: what it sends its one client goes to every attached client."""

    def __init__(self) -> None:
        self.clients: set[Send] = set()

    def write(self, data: bytes) -> None:
        for send in list(self.clients):
            try:
                send(data)
            except Exception:
                log.exception("could not queue a message for a client")

    def close(self) -> None:
        self.clients.clear()


class _Capture:
    """The daemon's writer while the gateway initializes it."""

    def __init__(self, answers: asyncio.Queue[bytes]) -> None:
        self.answers = answers

    def write(self, data: bytes) -> None:
        self.answers.put_nowait(data)

    def close(self) -> None:
        pass


class Gateway:
    """One workspace's daemon, shared by every client of the gateway."""

    def __init__(self, server: DevFactoryServer, workspace: Workspace) -> None:
        self.server = server
        self.workspace = workspace
        self.authority = Authority(workspace.store, workspace.project.id)
        self._broadcast = _Broadcast()

    @classmethod
    async def open(
        cls, root: Path, features: list[str] | None = None, extra: Sequence[Feature] = ()
    ) -> Gateway:
        """Build the daemon (``features``, all by default, plus ``extra`` ones: a benchmark's)
        and initialize it on ``root`` as an editor would (an ``initialize`` request with no
        client capabilities, then ``initialized``)."""
        from ..features import create_server

        server = create_server(features, extra=extra)
        protocol = cast(DevFactoryProtocol, server.protocol)
        answers: asyncio.Queue[bytes] = asyncio.Queue()
        protocol.set_writer(_Capture(answers), include_headers=False)
        params = {"processId": None, "rootUri": root.resolve().as_uri(), "capabilities": {},
                  "clientInfo": {"name": "devfactory-gateway"}}  # fmt: skip
        protocol.handle_frame(_encoder.encode(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
        ))  # fmt: skip
        while "id" not in (answer := msgspec.json.decode(await answers.get())):
            log.info("%s", answer.get("params"))  # window/showMessage of bad settings
        if "error" in answer:
            raise RuntimeError(f"cannot open {root}: {answer['error']['message']}")
        workspace = server.wiring.base(Workspace)
        assert workspace is not None  # initialize answered without an error
        gateway = cls(server, workspace)
        if gateway.workspace.settings.team.gateway is not None:
            await gateway.close()
            raise RuntimeError(
                f"{root}'s devfactory.toml names a gateway ([team] gateway): a gateway serves "
                "its workspace itself; remove the setting on the gateway's machine"
            )
        protocol.set_writer(gateway._broadcast, include_headers=False)
        protocol.handle_frame(b'{"jsonrpc": "2.0", "method": "initialized", "params": {}}')
        log.info("gateway serving %s (project %d)", root, gateway.workspace.project.id)
        return gateway

    async def close(self) -> None:
        self._broadcast.close()
        await self.server.wiring.stop()
        await self.server.cancel_tasks()
        await self.workspace.store.close()
        self.workspace.daemon.release()

    def attach(self, send: Send) -> Callable[[], None]:
        """Send ``send``'s client every notification from now on; returns the detach."""
        self._broadcast.clients.add(send)
        return lambda: self._broadcast.clients.discard(send)

    async def handle(self, token: str, body: bytes | str) -> bytes | None:
        """One message from a client holding ``token``: the response to send, if any."""
        raw = body.encode() if isinstance(body, str) else body
        try:
            data = envelope.decode(raw)
            envelope.check(data)
        except envelope.BadMessage as bad:
            return error_message(bad.msg_id, bad.error.code, bad.error.message)
        if "method" not in data:
            return None  # a response: the gateway sends its clients no requests to answer
        msg_id, method = data.get("id"), data["method"]
        if msg_id is None:
            return None  # notifications ($/cancelRequest...) have no effect on the gateway
        handler = self._handler(method)
        if handler is None:
            return error_message(
                msg_id,
                codes.METHOD_NOT_FOUND,
                f"the gateway serves the devfactory/* requests only, not {method}",
            )
        try:
            caller = await self.authority.authorize(token, method, data.get("params"))
            with remote_caller(caller.name):
                result = await handler(data.get("params"))
        except JsonRpcException as exc:
            if not isinstance(exc, Refused):
                log.info("%s answered an error: %s", method, exc.message)
            return error_message(msg_id, exc.code, exc.message)
        except Exception:
            log.exception("%s failed", method)
            return error_message(
                msg_id, codes.INTERNAL_ERROR, f"{method} failed: see the gateway's log"
            )
        return _encoder.encode({"jsonrpc": "2.0", "id": msg_id, "result": result})

    def _handler(self, method: str) -> Callable[[Any], Awaitable[Any]] | None:
        """The daemon's own handler of ``method`` (registered by its feature's ``setup``)."""
        if method not in REQUESTS:
            return None
        handler: Callable[[Any], Awaitable[Any]] | None = self.server.protocol.fm.features.get(
            method
        )
        return handler
