"""A run's timeline in the terminal: one line per event, model text as it streams.

``Timeline`` is fed ``devfactory/event`` events and ``devfactory/stream`` deltas in arrival
order. Streamed text is shown live; the ``ai_message`` / ``ai_plan_created`` event that
completes it then only closes the block instead of printing the text a second time.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from devfactory.protocol.changes import Change
from devfactory.protocol.enums import EventType, RunStatus, Severity
from devfactory.protocol.events import Event
from devfactory.protocol.runs import Run

_STYLE = {
    Severity.INFO: "",
    Severity.SUCCESS: "green",
    Severity.WARNING: "yellow",
    Severity.ERROR: "red",
    Severity.DEBUG: "dim",
}
_MARK = {
    Severity.INFO: "•",
    Severity.SUCCESS: "✓",
    Severity.WARNING: "!",
    Severity.ERROR: "✗",
    Severity.DEBUG: "·",
}
_TEXT_EVENTS = frozenset({EventType.AI_MESSAGE, EventType.AI_PLAN_CREATED})
_STATUS_STYLE = {
    RunStatus.COMPLETED: "green",
    RunStatus.FAILED: "red",
    RunStatus.CANCELLED: "yellow",
    RunStatus.RUNNING: "cyan",
    RunStatus.WAITING_FOR_USER: "magenta",
    RunStatus.PAUSED: "yellow",
}
MAX_MESSAGE_LINES = 12


def clock(iso: str) -> str:
    """``HH:MM:SS`` of an event's ISO timestamp (UTC, as stored)."""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%H:%M:%S")
    except ValueError:
        return iso[:8]


class Timeline:
    """Prints events and streamed text of runs as they arrive."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._streamed = ""
        """Text streamed since the last event (shown already)."""

    def stream(self, delta: str) -> None:
        if not self._streamed:
            self.console.print("           [dim]│[/] ", end="")
        self._streamed += delta
        self.console.print(escape(delta).replace("\n", "\n           [dim]│[/] "), end="")

    def event(self, event: Event) -> None:
        if event.type is EventType.CONVERSATION_MESSAGE_ADDED:
            return  # the model's text shows as ai_message, tool results as the tools' events
        shown_already = event.type in _TEXT_EVENTS and self._streamed.strip() == (
            event.message.strip()
        )
        if self._streamed:
            self.console.print()
            self._streamed = ""
        if shown_already and event.type is EventType.AI_MESSAGE:
            return  # the streamed text is the message
        style = _STYLE[event.severity]
        title = escape(event.title)
        line = f"[dim]{clock(event.created_at)}[/]  {_MARK[event.severity]} "
        line += f"[{style}]{title}[/]" if style else title
        body = "" if shown_already else event.message.strip()
        if event.type is EventType.COMMAND_OUTPUT:
            self.console.print(line)
            self._block(str(event.payload.get("text", "")).rstrip(), "dim")
            return
        first, _, rest = body.partition("\n")
        if first and first != event.title:
            line += f"  [dim]{escape(first)}[/]"
        self.console.print(line)
        if rest:
            self._block(rest, "")

    def _block(self, text: str, style: str) -> None:
        lines = text.splitlines()
        shown = lines[:MAX_MESSAGE_LINES]
        if len(lines) > len(shown):
            shown.append(f"… {len(lines) - len(shown)} more lines")
        for item in shown:
            text_line = f"[{style}]{escape(item)}[/]" if style else escape(item)
            self.console.print(f"           {text_line}", no_wrap=True, overflow="ellipsis")


def status_text(status: RunStatus) -> str:
    style = _STATUS_STYLE.get(status)
    label = status.value.replace("_", " ")
    return f"[{style}]{label}[/]" if style else label


def runs_table(runs: list[Run]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("run", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("title", ratio=1, min_width=16)
    table.add_column("agent", no_wrap=True)
    table.add_column("provider", no_wrap=True, max_width=14, overflow="ellipsis")
    table.add_column("step", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    table.add_column("created", no_wrap=True)
    for run in runs:
        cost = run.metadata.usage.cost_usd
        table.add_row(
            str(run.id),
            status_text(run.status),
            escape(run.title),
            run.agent.value,
            escape(run.provider),
            str(run.current_step),
            "-" if cost is None else f"${cost:.4f}",
            run.created_at[5:16].replace("T", " "),
        )
    return table


def changes_table(changes: list[Change]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("change", "file", "action", "hunks", "status"):
        table.add_column(column)
    for change in changes:
        table.add_row(
            str(change.id),
            escape(change.path),
            change.action.value,
            str(len(change.hunks)),
            change.status.value + (f" ({escape(change.reason)})" if change.reason else ""),
        )
    return table
