"""Work-done progress for indexing (``progress.WorkDoneProgress``), as a percentage of the
files, so editors show a progress bar (and the CLI draws one from the same notifications).
"""

from __future__ import annotations

import time

from pygls.lsp.server import LanguageServer

from ..progress import WorkDoneProgress

#: Reports closer together than this are dropped (the final one is always sent).
REPORT_INTERVAL_S = 0.1


class IndexProgress:
    """One progress bar: ``await start()``, ``report()`` as work is done, ``finish()``."""

    def __init__(self, server: LanguageServer, title: str) -> None:
        self._progress = WorkDoneProgress(server, title, "index")
        self._last_report = 0.0
        self._last_percentage = -1

    async def start(self, message: str) -> None:
        await self._progress.start(message, percentage=0)

    def report(self, done: int, total: int, noun: str = "files") -> None:
        percentage = 100 if total == 0 else min(100, done * 100 // total)
        now = time.monotonic()
        if done < total and (
            percentage == self._last_percentage or now - self._last_report < REPORT_INTERVAL_S
        ):
            return
        self._last_report, self._last_percentage = now, percentage
        self._progress.report(f"{done}/{total} {noun}", percentage)

    def finish(self, message: str) -> None:
        self._progress.finish(message)
