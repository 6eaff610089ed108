"""The DevFactory language server: a thin pygls server; features attach to it.

``features.create_server()`` builds one and lets each feature register its handlers; the
services they start are reached through :meth:`DevFactoryServer.need` (:mod:`.wiring`).
Nothing lives in module globals, so tests can build servers with parts switched off.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Coroutine
from typing import Any, BinaryIO, TypeVar, cast

import msgspec
from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from devfactory.protocol.methods import Capabilities

from .context import Workspace
from .documents import DocumentListener
from .event_loop import run_service
from .lsp_protocol import DevFactoryProtocol, converter_factory
from .transport import read_frames
from .version import __version__
from .wiring import Wiring

log = logging.getLogger(__name__)

T = TypeVar("T")


class DevFactoryServer(LanguageServer):
    """The daemon. Features attach to it through :mod:`devfactory.server.features`."""

    def __init__(self, wiring: Wiring | None = None) -> None:
        super().__init__(
            "devfactory",
            __version__,
            protocol_cls=DevFactoryProtocol,
            converter_factory=converter_factory,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.wiring = wiring if wiring is not None else Wiring([])
        """The features this daemon runs and their services (none: a bare server)."""
        self.document_listeners: list[DocumentListener] = []
        """Called on every didOpen/didChange/didSave/didClose (see :mod:`.documents`)."""
        self._tasks: set[asyncio.Task[Any]] = set()

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve on stdio until the client exits or hangs up: pygls' stdio server, with
        bounded framing (:mod:`.transport`) and checked messages (:mod:`.envelope`)."""
        protocol = cast(DevFactoryProtocol, self.protocol)
        self._stop_event = stop_event = threading.Event()
        protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        frames = read_frames(
            stop_event,
            stdin or sys.stdin.buffer,
            self.thread_pool,
            on_message=protocol.handle_frame,
            on_bad_frame=protocol.reject_frame,
        )
        try:
            run_service(frames)
        except BrokenPipeError:
            log.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls shows errors no request is waiting for (a malformed message, a failing
        notification handler) as an "Error in server" dialog; they belong in the log."""
        if source is FeatureRequestError:
            return  # answered to the request, and logged by pygls
        trace = ""
        if isinstance(error, JsonRpcException) and isinstance(error.data, dict):
            trace = "".join(error.data.get("traceback", []))
        log.error("%s: %s\n%s", getattr(source, "__name__", source), error, trace)

    async def need(self, kind: type[T]) -> T:
        """The service of type ``kind`` (the open ``Workspace``, a feature's service), once it
        has started; ``Unavailable`` saying why when this daemon does not have it."""
        return await self.wiring.get(kind)

    async def find(self, kind: type[T]) -> T | None:
        """Like :meth:`need`, but None when it is not there (LSP features answer no result)."""
        return await self.wiring.find(kind)

    @property
    def workspace_or_none(self) -> Workspace | None:
        """The open workspace, without waiting (None before initialize and after shutdown)."""
        return self.wiring.base(Workspace)

    @property
    def reviews_trust(self) -> bool:
        """Whether the editor warns of settings awaiting trust itself, with its way to review
        them (``Capabilities.TRUST_REVIEW``): the daemon then leaves its own warning of them
        out, so the user sees one warning, the one that can act."""
        experimental = self.client_capabilities.experimental
        return (
            isinstance(experimental, dict) and experimental.get(Capabilities.TRUST_REVIEW) is True
        )

    def run_task(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Start a background task that is kept alive and whose failure is logged."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    def send(self, method: str, params: msgspec.Struct) -> None:
        """Send a ``devfactory/*`` notification to the client."""
        self.protocol.notify(method, params)

    async def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def shutdown(self) -> None:
        """Called by pygls when the connection ends (even without shutdown/exit)."""
        if (workspace := self.workspace_or_none) is not None:
            workspace.store.close_now()
        super().shutdown()  # type: ignore[no-untyped-call]
