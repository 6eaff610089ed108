"""A working run as LSP work-done progress: ``DevFactory run #N`` begins when the run starts
running, each step it records is reported (its event's title), and it ends when the run
finishes, so VS Code's status bar and fidget.nvim show what the agent is doing. A run that
waits (paused, or for the user) says so and keeps its progress open.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from pygls.lsp.server import LanguageServer

from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import Event

from ..progress import WorkDoneProgress

Spawn = Callable[[Coroutine[Any, Any, None], str], object]
"""Runs a coroutine in the background (``server.run_task``)."""

WAITING = {RunStatus.PAUSED: "paused", RunStatus.WAITING_FOR_USER: "waiting for you"}


class RunProgress:
    """Follows the committed events of this daemon's runs (an event-bus listener)."""

    def __init__(self, server: LanguageServer, spawn: Spawn) -> None:
        self._server = server
        self._spawn = spawn
        self._runs: dict[int, WorkDoneProgress] = {}

    def on_event(self, event: Event) -> None:
        run_id = event.run_id
        if run_id is None:
            return
        progress = self._runs.get(run_id)
        if event.type is EventType.RUN_STATUS_CHANGED:
            status = RunStatus(str(event.payload["toStatus"]))
            if status is RunStatus.RUNNING and progress is None:
                progress = WorkDoneProgress(self._server, f"DevFactory run #{run_id}", "run")
                self._runs[run_id] = progress
                self._spawn(progress.start("running"), f"progress of run {run_id}")
            elif progress is not None and status.is_terminal:
                progress.finish(status.value)
                del self._runs[run_id]
            elif progress is not None:
                progress.report(WAITING.get(status, status.value.replace("_", " ")))
        elif progress is not None:
            progress.report(event.title)
