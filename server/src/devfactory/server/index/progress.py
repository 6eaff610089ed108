"""LSP work-done progress for indexing: ``window/workDoneProgress/create`` then ``$/progress``
begin / report / end, so editors show a progress bar (and the CLI draws one from the same
notifications). Clients that did not advertise ``window.workDoneProgress`` get nothing.
"""

from __future__ import annotations

import logging
import time
import uuid

from lsprotocol import types
from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)

#: Reports closer together than this are dropped (the final one is always sent).
REPORT_INTERVAL_S = 0.1


class IndexProgress:
    """One progress bar: ``await start()``, ``report()`` as work is done, ``finish()``."""

    def __init__(self, server: LanguageServer, title: str) -> None:
        self._server = server
        self._title = title
        self._token: str | None = None
        self._last_report = 0.0
        self._last_percentage = -1

    async def start(self, message: str) -> None:
        capabilities = self._server.client_capabilities
        if not (capabilities.window and capabilities.window.work_done_progress):
            return
        token = f"devfactory-index-{uuid.uuid4().hex[:12]}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception:  # the client refused the token: carry on without a bar
            log.debug("client refused progress token", exc_info=True)
            return
        self._token = token
        self._server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self._title, message=message, percentage=0, cancellable=False
            ),
        )

    def report(self, done: int, total: int, noun: str = "files") -> None:
        if self._token is None:
            return
        percentage = 100 if total == 0 else min(100, done * 100 // total)
        now = time.monotonic()
        if done < total and (
            percentage == self._last_percentage or now - self._last_report < REPORT_INTERVAL_S
        ):
            return
        self._last_report, self._last_percentage = now, percentage
        self._server.work_done_progress.report(
            self._token,
            types.WorkDoneProgressReport(message=f"{done}/{total} {noun}", percentage=percentage),
        )

    def finish(self, message: str) -> None:
        if self._token is not None:
            self._server.work_done_progress.end(
                self._token, types.WorkDoneProgressEnd(message=message)
            )
            self._token = None
