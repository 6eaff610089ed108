"""Logging: to ``.devfactory/logs/daemon.log`` (stdout is the protocol channel) and, from
warning up, to the client as ``window/logMessage``."""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types

LogToClient = Callable[[types.LogMessageParams], None]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_LSP_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
}


class ClientLogHandler(logging.Handler):
    """Forwards warnings and errors to the client; never recurses into itself."""

    def __init__(self, send: LogToClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(level=logging.WARNING)
        self.send = send
        """``window/logMessage`` to the client (called on the event loop's thread)."""
        self.loop = loop
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._local, "busy", False) or record.name.startswith("pygls"):
            return
        self._local.busy = True
        try:
            message = types.LogMessageParams(
                type=_LSP_LEVELS.get(record.levelno, types.MessageType.Error),
                message=self.format(record),
            )
            if self.loop.is_closed():
                return
            if threading.current_thread() is threading.main_thread():
                self.send(message)
            else:
                self.loop.call_soon_threadsafe(self.send, message)
        except Exception:  # a log line must never take the daemon down
            pass
        finally:
            self._local.busy = False


def configure_startup_logging(level: str = "INFO") -> None:
    """Before initialize we do not know the workspace: log to stderr (editors keep it)."""
    root = logging.getLogger()
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # pygls logs every message it sends at INFO; keep its own chatter to warnings.
    logging.getLogger("pygls").setLevel(logging.WARNING)


def attach_workspace_logging(log_file: Path, send: LogToClient, level: str) -> None:
    """Once the workspace is known: a rotating log file plus warnings to the client."""
    root = logging.getLogger()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(file_handler)
    client_handler = ClientLogHandler(send, asyncio.get_running_loop())
    client_handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(client_handler)
    root.setLevel(level.upper())
