"""LSP work-done progress: ``window/workDoneProgress/create``, then ``$/progress`` begin,
report and end, so editors show it where they show progress (VS Code's status bar, fidget.nvim
and other ``LspProgress`` consumers). Clients that did not advertise
``window.workDoneProgress``, or refuse the token, get nothing and the work goes on.
"""

from __future__ import annotations

import logging
import uuid

from lsprotocol import types
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


class WorkDoneProgress:
    """One progress indicator: ``await start()``, ``report()`` as work goes, ``finish()``."""

    def __init__(self, server: LanguageServer, title: str, kind: str) -> None:
        self._server = server
        self._title = title
        self._kind = kind
        self.token: str | None = None
        """Set once the client accepted the token (reports before that are dropped)."""
        self._ended: str | None = None
        """The end message, when the work finished before the client accepted the token."""

    async def start(self, message: str, percentage: int | None = None) -> None:
        capabilities = self._server.client_capabilities
        if not (capabilities.window and capabilities.window.work_done_progress):
            return
        token = f"devfactory-{self._kind}-{uuid.uuid4().hex[:12]}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception:  # the client refused the token: carry on without it
            log.debug("client refused progress token", exc_info=True)
            return
        self.token = token
        self._server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self._title, message=message, percentage=percentage, cancellable=False
            ),
        )
        if self._ended is not None:
            self.finish(self._ended)

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.token is not None:
            self._server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def finish(self, message: str) -> None:
        self._ended = message
        if self.token is not None:
            self._server.work_done_progress.end(
                self.token, types.WorkDoneProgressEnd(message=message)
            )
            self.token = None
