"""The DevFactory language server: a thin pygls server plus feature packages.

``create_server()`` builds it and lets each feature register its handlers and lifecycle hooks
(esbonio's shape): nothing lives in module globals, so tests can build servers with parts
switched off.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, BinaryIO, TypeVar, cast

import msgspec
from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from .documents import DocumentListener
from .errors import Unavailable
from .lsp_protocol import DevFactoryProtocol, converter_factory
from .services import Services
from .transport import read_frames
from .version import __version__

log = logging.getLogger(__name__)

T = TypeVar("T")
Hook = Callable[[Services], Awaitable[None]]


class DevFactoryServer(LanguageServer):
    """The daemon. Features attach to it through :mod:`devfactory.server.features`."""

    def __init__(self) -> None:
        super().__init__(
            "devfactory",
            __version__,
            protocol_cls=DevFactoryProtocol,
            converter_factory=converter_factory,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.services_or_none: Services | None = None
        """Set by the core feature during ``initialize``."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.on_initialize: list[Hook] = []
        """Run in order during ``initialize``, after the core services exist."""
        self.on_initialized: list[Hook] = []
        """Run in the background after ``initialized`` (indexing, watchers, recovery)."""
        self.on_shutdown: list[Hook] = []
        """Run in reverse order on ``shutdown``."""
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
            asyncio.run(frames)
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

    @property
    def services(self) -> Services:
        """The workspace services; an error response before ``initialize``."""
        if self.services_or_none is None:
            raise Unavailable("the daemon has not been initialized: send initialize first")
        return self.services_or_none

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

    async def call_hooks(self, hooks: Iterable[Hook], stage: str) -> None:
        """Run lifecycle hooks; one failing hook is logged and does not stop the others."""
        services = self.services
        for hook in hooks:
            name = getattr(hook, "__qualname__", repr(hook))
            started = time.perf_counter()
            try:
                await hook(services)
            except Exception:
                log.exception("%s hook %s failed", stage, name)
            log.debug(
                "%s hook %s took %.1f ms", stage, name, (time.perf_counter() - started) * 1000
            )

    async def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def shutdown(self) -> None:
        """Called by pygls when the connection ends (even without shutdown/exit)."""
        if self.services_or_none is not None:
            self.services_or_none.store.close_now()
        super().shutdown()  # type: ignore[no-untyped-call]


def create_server(features: Iterable[str] | None = None) -> DevFactoryServer:
    """A server with the named features (all of them by default)."""
    from .features import setup_features

    server = DevFactoryServer()
    setup_features(server, features)
    return server
