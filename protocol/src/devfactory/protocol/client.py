"""A small asyncio JSON-RPC client over stdio with LSP framing.

It spawns the daemon (``devfactory serve --stdio`` by default), performs the LSP handshake
and sends typed ``devfactory/*`` requests. The ``devfactory`` CLI is built on it; any other
tool can use it the same way::

    async with DaemonClient.spawn(root=".") as client:
        health = await client.call(Requests.HEALTH)

Requests the daemon sends to the client (progress tokens, configuration, applyEdit) get a
neutral answer unless a handler is registered with ``on_request``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import msgspec

from .errors import RpcError
from .methods import NOTIFICATIONS, REQUESTS

NotificationHandler = Callable[[str, Any], None]
RequestHandler = Callable[[Any], Awaitable[Any] | Any]

_DEFAULT_SERVER_REQUESTS: dict[str, Any] = {
    "window/workDoneProgress/create": None,
    "client/registerCapability": None,
    "client/unregisterCapability": None,
    "workspace/configuration": None,  # replaced by [settings] per item
    "workspace/applyEdit": {"applied": False, "failureReason": "client does not edit files"},
    "window/showDocument": {"success": False},
    "window/showMessageRequest": None,
    "workspace/diagnostic/refresh": None,
}

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def default_server_command() -> list[str]:
    """How to start the daemon from Python: the ``devfactory`` script next to this interpreter."""
    script = Path(sys.executable).with_name("devfactory")
    if script.exists():
        return [str(script), "serve", "--stdio"]
    return [sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio"]


class DaemonClient:
    """One connection to one daemon process."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        *,
        root: Path,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.process = process
        self.root = root
        self.settings = dict(settings or {})
        self.server_capabilities: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[Any]] = {}
        self._notification_handlers: list[NotificationHandler] = []
        self._request_handlers: dict[str, RequestHandler] = {}
        self._write_lock = asyncio.Lock()
        self._reader_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._answering: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def spawn(
        cls,
        root: str | os.PathLike[str] = ".",
        *,
        command: Sequence[str] | None = None,
        settings: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        client_name: str = "devfactory-client",
        own_runs_only: bool = False,
        on_notification: NotificationHandler | None = None,
    ) -> AsyncIterator[DaemonClient]:
        """Start a daemon for ``root``, initialize it, and shut it down on exit.

        ``own_runs_only``: the daemon starts only the runs queued through this connection, not
        ones another client (an editor's daemon) queued: for short-lived clients like the CLI.
        ``on_notification`` hears the daemon from the start, the ``initialize`` answer's
        messages (settings it ignored) included.
        """
        root_path = Path(root).resolve()
        process = await asyncio.create_subprocess_exec(
            *(command or default_server_command()),
            cwd=root_path,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL if env is None else None,
            env=dict(env) if env is not None else None,
            limit=16 * 1024 * 1024,
            # Out of the terminal's process group, so its Ctrl+C reaches only this client,
            # which cancels its runs and then closes the daemon; if the client dies instead,
            # the daemon sees its stdin end and stops.
            start_new_session=True,
        )
        client = cls(process, root=root_path, settings=settings)
        if on_notification is not None:
            client.on_notification(on_notification)
        client.start()
        try:
            await client.initialize(client_name=client_name, own_runs_only=own_runs_only)
            yield client
        finally:
            await client.close()

    def start(self) -> None:
        """Begin reading messages from the daemon."""
        self._reader_task = asyncio.create_task(self._read_loop(), name="devfactory-client-reader")

    async def initialize(
        self, *, client_name: str = "devfactory-client", own_runs_only: bool = False
    ) -> dict[str, Any]:
        """The LSP handshake; returns the server's ``initialize`` result."""
        result: dict[str, Any] = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": client_name},
                "rootUri": self.root.as_uri(),
                "workspaceFolders": [{"uri": self.root.as_uri(), "name": self.root.name}],
                "initializationOptions": self.settings,
                "capabilities": {
                    "window": {"workDoneProgress": True},
                    "workspace": {"configuration": True},
                    "experimental": {"devfactory": {"ownRunsOnly": own_runs_only}},
                },
            },
        )
        self.server_capabilities = result.get("capabilities", {})
        await self.notify("initialized", {})
        return result

    async def close(self, timeout: float = 5.0) -> None:
        """Shut the daemon down politely, then firmly."""
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.request("shutdown"), timeout)
                await self.notify("exit")
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- messages ----------------------------------------------------------------------------

    def on_notification(self, handler: NotificationHandler) -> Callable[[], None]:
        """Call ``handler(method, params)`` for every notification; returns an unsubscribe."""
        self._notification_handlers.append(handler)
        return lambda: self._notification_handlers.remove(handler)

    def on_request(self, method: str, handler: RequestHandler) -> None:
        """Answer the daemon's ``method`` requests with ``handler(params)``."""
        self._request_handlers[method] = handler

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request and wait for its raw (JSON-decoded) result."""
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = msgspec.to_builtins(params)
        await self._send(message)
        return await future

    async def call(self, method: str, params: Any = None) -> Any:
        """Send a ``devfactory/*`` request and decode its result into the contract's type."""
        spec = REQUESTS[method]
        raw = await self.request(method, params if params is not None else {})
        return msgspec.convert(raw, spec.result)

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = msgspec.to_builtins(params)
        await self._send(message)

    async def _send(self, message: dict[str, Any]) -> None:
        if self.process.stdin is None or self._closed.is_set():
            raise ConnectionError("the daemon is not running")
        body = _encoder.encode(message)
        async with self._write_lock:
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            await self.process.stdin.drain()

    async def _read_loop(self) -> None:
        assert self.process.stdout is not None
        reader = self.process.stdout
        try:
            while True:
                length = 0
                while True:
                    line = await reader.readline()
                    if not line:
                        return
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                await self._dispatch(_decoder.decode(body))
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self._closed.set()
            error = ConnectionError("the daemon exited")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)
            self._pending.clear()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            settle(self._pending, message)
            return
        method, params = message["method"], message.get("params")
        if "id" in message:
            task = asyncio.create_task(self._answer(message["id"], method, params))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
            return
        notify(self._notification_handlers, method, params)

    async def _answer(self, msg_id: int | str, method: str, params: Any) -> None:
        try:
            handler = self._request_handlers.get(method)
            if handler is not None:
                result = handler(params)
                if isinstance(result, Awaitable):
                    result = await result
            elif method == "workspace/configuration":
                result = [self.settings for _ in (params or {}).get("items", [])]
            else:
                result = _DEFAULT_SERVER_REQUESTS.get(method)
            await self._send(
                {"jsonrpc": "2.0", "id": msg_id, "result": msgspec.to_builtins(result)}
            )
        except Exception as exc:  # answer, never leave the daemon waiting
            await self._send(
                {"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32603, "message": str(exc)}}
            )


def settle(pending: dict[Any, asyncio.Future[Any]], response: dict[str, Any]) -> None:
    """Resolve the request ``response`` answers: its result, or RpcError."""
    future = pending.pop(response.get("id", -1), None)
    if future is None or future.done():
        return
    if "error" in response:
        error = response["error"]
        future.set_exception(RpcError(error["code"], error["message"], error.get("data")))
    else:
        future.set_result(response.get("result"))


def notify(handlers: Sequence[NotificationHandler], method: str, params: Any) -> None:
    """Call each handler with the notification, typed when the protocol knows the method."""
    if method in NOTIFICATIONS and isinstance(params, dict):
        params = msgspec.convert(params, NOTIFICATIONS[method])
    for handler in list(handlers):
        handler(method, params)
