"""A run's events as ACP ``session/update`` notifications.

One translator follows one session, live (events as the daemon commits them, model text
from ``devfactory/stream``) or replayed (``session/load``). Steps become tool calls with
their ACP kind: a file read is ``read``, a proposed change ``edit`` (or ``delete``) with the
change's diff as content, a command ``execute`` (started, then completed or failed with its
output), a search ``search``, an MCP server's tool ``other``. The plan becomes a ``plan``
update, model text message chunks (the planning turn's text, thought chunks), the final
summary a message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from acp import (
    plan_entry,
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_plan,
    update_tool_call,
    update_user_message_text,
)
from acp.schema import PlanEntry, ToolCallLocation, ToolKind

from devfactory.protocol.changes import ChangeDiff
from devfactory.protocol.enums import ChangeAction, EventType, Severity
from devfactory.protocol.events import (
    AiMessage,
    ChangeEvent,
    CommandFinished,
    CommandOutput,
    CommandStarted,
    DirectiveReceived,
    ErrorPayload,
    Event,
    FileTouched,
    FinalSummary,
    McpServerFailed,
    McpToolCalled,
    PausedForInput,
    PlanCreated,
    RagSearchCompleted,
    Resumed,
    UserPrompt,
    decode_payload,
)

from ...review.hunks import apply_hunks

Update = Any
"""One ``session/update`` payload (an ``acp.schema`` model)."""
DiffOf = Callable[[int], Awaitable[ChangeDiff | None]]

MAX_OUTPUT = 8000
"""Characters of a command's output shown (its tail)."""
CHANGE_KINDS: dict[ChangeAction, ToolKind] = {
    ChangeAction.CREATE: "edit",
    ChangeAction.UPDATE: "edit",
    ChangeAction.DELETE: "delete",
}
CHANGE_STATUS_TITLES = {
    EventType.CHANGE_APPLIED: "Applied",
    EventType.CHANGE_REJECTED: "Rejected",
    EventType.CHANGE_CONFLICT: "Conflict (your edits kept)",
}
_DECIDED_OUTCOMES = {
    EventType.CHANGE_APPLIED: "applied",
    EventType.CHANGE_REJECTED: "rejected",
    EventType.CHANGE_CONFLICT: "conflict",
}


def change_call_id(change_id: int) -> str:
    return f"change-{change_id}"


HUNK_OUTCOMES: Final = {
    "applied": "applied {}",
    "conflict": "conflict applying {} (your edits kept)",
    "unsaved": "{} not applied (unsaved edits in the editor)",
    "rejected": "rejected {}",
    "left": "{} left for review",
}
"""How each outcome of a per-hunk decision reads in a title."""


def hunk_numbers(indexes: Sequence[int]) -> str:
    """``[0, 2]`` -> "hunks 1 and 3"; ``[1]`` -> "hunk 2" (as the user counts them)."""
    numbers = [str(index + 1) for index in sorted(indexes)]
    if len(numbers) == 1:
        return f"hunk {numbers[0]}"
    return f"hunks {', '.join(numbers[:-1])} and {numbers[-1]}"


def hunks_title(path: str, outcomes: Mapping[str, Sequence[int]]) -> str:
    """A change decided hunk by hunk: "Applied hunk 1; rejected hunk 2: calc.py"."""
    parts = [
        words.format(hunk_numbers(outcomes[outcome]))
        for outcome, words in HUNK_OUTCOMES.items()
        if outcomes.get(outcome)
    ]
    text = "; ".join(parts)
    return f"{text[:1].upper()}{text[1:]}: {path}"


def text_content(text: str) -> Any:
    return tool_content(text_block(text))


class RunUpdates:
    """Turns one session's events into ACP updates; remembers which tool calls it started."""

    def __init__(self, root: Path, diff_of: DiffOf, *, live: bool) -> None:
        self.root = root
        self.diff_of = diff_of
        self.live = live
        self.planning = False
        """Between ``ai_context_loaded`` and ``ai_plan_created``: streamed text is thinking."""
        self.plan: list[PlanEntry] = []
        self._started: set[str] = set()
        self._output: dict[str, str] = {}
        self._hunk_counts: dict[str, int] = {}
        """Hunks of the latest change proposed to each path."""
        self._decided: dict[str, dict[str, list[int]]] = {}
        """The hunks of each path's latest change by outcome (applied, rejected, conflict)."""
        self._prompt_of: Callable[[int, int], str | None] = lambda run_id, iteration: None

    def with_prompts(self, prompt_of: Callable[[int, int], str | None]) -> RunUpdates:
        """What the user typed for each (run, iteration), to replay instead of the run's prompt."""
        self._prompt_of = prompt_of
        return self

    def location(self, path: str, line: int | None = None) -> ToolCallLocation:
        return ToolCallLocation(path=str(self.root / path), line=line)

    def stream(self, delta: str) -> Update:
        """Model text as it arrives: thinking while it plans, then the agent's message."""
        if self.planning:
            return update_agent_thought_text(delta)
        return update_agent_message_text(delta)

    def call(self, call_id: str, title: str, kind: ToolKind, **fields: Any) -> Update:
        """A tool call: started the first time its id is seen, updated afterwards."""
        if call_id in self._started:
            return update_tool_call(call_id, title=title, kind=kind, **fields)
        self._started.add(call_id)
        return start_tool_call(call_id, title, kind=kind, **fields)

    def finished_plan(self) -> Update | None:
        """The plan with every entry done (the run completed)."""
        if not self.plan:
            return None
        self.plan = [entry.model_copy(update={"status": "completed"}) for entry in self.plan]
        return update_plan(self.plan)

    async def updates(self, event: Event) -> list[Update]:
        """The updates ``event`` stands for (none for bookkeeping events)."""
        payload = decode_payload(event)
        handler = _HANDLERS.get(event.type)
        return [] if handler is None else await handler(self, event, payload)

    # -- one handler per kind of step ----------------------------------------------------------

    async def _user_prompt(self, event: Event, payload: UserPrompt) -> list[Update]:
        if self.live or event.run_id is None:
            return []  # the client shows what its user typed
        typed = self._prompt_of(event.run_id, payload.iteration)
        return [update_user_message_text(typed or payload.prompt)]

    async def _context_loaded(self, event: Event, payload: Any) -> list[Update]:
        self.planning = True
        return []

    async def _plan(self, event: Event, payload: PlanCreated) -> list[Update]:
        self.planning = False
        steps = payload.steps or ([payload.plan] if payload.plan else [])
        self.plan = [plan_entry(step) for step in steps]
        updates: list[Update] = [] if self.live else [update_agent_thought_text(payload.plan)]
        return [*updates, update_plan(self.plan)] if self.plan else updates

    async def _message(self, event: Event, payload: AiMessage) -> list[Update]:
        return [] if self.live else [update_agent_message_text(payload.text)]  # live: streamed

    async def _directive(self, event: Event, payload: DirectiveReceived) -> list[Update]:
        return [] if self.live else [update_user_message_text(payload.text)]

    async def _search(self, event: Event, payload: RagSearchCompleted) -> list[Update]:
        hits = "\n".join(f"{hit.path}:{hit.start_line}-{hit.end_line}" for hit in payload.hits)
        return [
            self.call(
                f"event-{event.id}",
                f"Search: {payload.query}",
                "search",
                status="completed",
                content=[text_content(hits or "no results")],
                locations=[self.location(hit.path, hit.start_line) for hit in payload.hits],
                raw_input={"query": payload.query},
            )
        ]

    async def _read(self, event: Event, payload: FileTouched) -> list[Update]:
        return [
            self.call(
                f"event-{event.id}",
                event.title,
                "read",
                status="completed",
                locations=[self.location(payload.path, payload.start_line)],
            )
        ]

    async def _file_changed(self, event: Event, payload: FileTouched) -> list[Update]:
        action = {
            EventType.FILE_CREATED: ChangeAction.CREATE,
            EventType.FILE_UPDATED: ChangeAction.UPDATE,
            EventType.FILE_DELETED: ChangeAction.DELETE,
        }[event.type]
        if payload.change_id is None:  # no review in this daemon: the step, without a diff
            call_id, content = f"event-{event.id}", None
        else:
            call_id = change_call_id(payload.change_id)
            diff = await self.diff_of(payload.change_id)
            content = None if diff is None else [self.diff_content(diff)]
        return [
            self.call(
                call_id,
                event.title,
                CHANGE_KINDS[action],
                status="completed",
                content=content,
                locations=[self.location(payload.path)],
            )
        ]

    def diff_content(self, diff: ChangeDiff) -> Any:
        """The change as ACP diff content: the client shows it (and its own Keep/Reject)."""
        return tool_diff_content(
            str(self.root / diff.change.path), diff.after or "", old_text=diff.before
        )

    def hunk_content(self, diff: ChangeDiff, index: int) -> Any:
        """One hunk of a text change as ACP diff content: the base with only that hunk."""
        before = diff.before or ""
        return tool_diff_content(
            str(self.root / diff.change.path),
            apply_hunks(before, diff.after or "", [index]),
            old_text=diff.before,
        )

    async def _change_proposed(self, event: Event, payload: ChangeEvent) -> list[Update]:
        """Nothing to show (the file_* event did), but how many hunks the change has."""
        self._hunk_counts[payload.path] = len(payload.hunks or [])
        self._decided.pop(payload.path, None)  # proposed again: undecided again
        return []

    async def _change_decided(self, event: Event, payload: ChangeEvent) -> list[Update]:
        title = CHANGE_STATUS_TITLES[event.type]
        failed = event.type is EventType.CHANGE_CONFLICT
        outcome = _DECIDED_OUTCOMES[event.type]
        decided = self._decided.setdefault(payload.path, {})
        decided[outcome] = sorted({*decided.get(outcome, []), *(payload.hunks or [])})
        known = range(self._hunk_counts.get(payload.path, 0))
        left = [i for i in known if not any(i in hunks for hunks in decided.values())]
        if len(decided) > 1 or left:  # decided hunk by hunk
            title = hunks_title(payload.path, {**decided, "left": left})
            failed = "conflict" in decided
        else:
            title = f"{title}: {payload.path}"
        return [
            self.call(
                change_call_id(payload.change_id),
                title,
                CHANGE_KINDS[payload.action],
                status="failed" if failed else "completed",
                locations=[self.location(payload.path)],
            )
        ]

    def _command_id(self, execution_id: int | None, command: str) -> str:
        return f"command-{execution_id}" if execution_id is not None else f"command-{command}"

    async def _command_started(self, event: Event, payload: CommandStarted) -> list[Update]:
        call_id = self._command_id(payload.execution_id, payload.command)
        self._output[call_id] = ""
        return [
            self.call(
                call_id,
                payload.command,
                "execute",
                status="in_progress",
                raw_input={"command": payload.command, "sandboxed": payload.sandboxed},
            )
        ]

    async def _command_output(self, event: Event, payload: CommandOutput) -> list[Update]:
        call_id = f"command-{payload.execution_id}"
        if call_id in self._output:
            self._output[call_id] = (self._output[call_id] + payload.text)[-MAX_OUTPUT:]
        return []

    async def _command_finished(self, event: Event, payload: CommandFinished) -> list[Update]:
        call_id = self._command_id(payload.execution_id, payload.command)
        output = self._output.pop(call_id, "")
        if payload.was_blocked:
            summary = f"blocked: {payload.block_reason or 'not allowed by the policy'}"
        elif payload.was_killed:
            summary = "stopped"
        else:
            summary = f"exit code {payload.exit_code}"
        ok = event.type is EventType.COMMAND_COMPLETED
        return [
            self.call(
                call_id,
                payload.command,
                "execute",
                status="completed" if ok else "failed",
                content=[text_content(f"{output.rstrip()}\n\n{summary}".strip())],
                raw_output={"exitCode": payload.exit_code},
            )
        ]

    async def _question(self, event: Event, payload: PausedForInput) -> list[Update]:
        if self.live:
            return []  # asked through session/request_permission
        return [self.call(f"question-{payload.request_id}", payload.question, "other")]

    async def _answer(self, event: Event, payload: Resumed) -> list[Update]:
        if self.live or payload.request_id is None:
            return []
        answer = payload.text or payload.action or "answered"
        return [
            self.call(
                f"question-{payload.request_id}",
                event.title,
                "other",
                status="completed",
                content=[text_content(answer)],
            )
        ]

    async def _mcp_call(self, event: Event, payload: McpToolCalled) -> list[Update]:
        return [
            self.call(
                f"event-{event.id}",
                event.title,
                "other",
                status="failed" if payload.is_error else "completed",
                content=[text_content(payload.result)],
                raw_input=payload.arguments,
            )
        ]

    async def _mcp_failed(self, event: Event, payload: McpServerFailed) -> list[Update]:
        return [update_agent_message_text(f"\n\n**{event.title}**: {payload.message}\n")]

    async def _error(self, event: Event, payload: ErrorPayload) -> list[Update]:
        if event.severity not in (Severity.ERROR, Severity.WARNING):
            return []
        return [update_agent_message_text(f"\n\n**{event.title}**: {payload.message}\n")]

    async def _summary(self, event: Event, payload: FinalSummary) -> list[Update]:
        return [update_agent_message_text(f"\n\n{payload.summary}\n")]


Handler = Callable[[RunUpdates, Event, Any], Awaitable[list[Update]]]
E = EventType
_HANDLERS: dict[EventType, Handler] = {
    E.USER_PROMPT: RunUpdates._user_prompt,
    E.AI_CONTEXT_LOADED: RunUpdates._context_loaded,
    E.AI_PLAN_CREATED: RunUpdates._plan,
    E.AI_MESSAGE: RunUpdates._message,
    E.DIRECTIVE_RECEIVED: RunUpdates._directive,
    E.RAG_SEARCH_COMPLETED: RunUpdates._search,
    E.FILE_READ: RunUpdates._read,
    E.FILE_CREATED: RunUpdates._file_changed,
    E.FILE_UPDATED: RunUpdates._file_changed,
    E.FILE_DELETED: RunUpdates._file_changed,
    E.CHANGE_PROPOSED: RunUpdates._change_proposed,
    E.CHANGE_APPLIED: RunUpdates._change_decided,
    E.CHANGE_REJECTED: RunUpdates._change_decided,
    E.CHANGE_CONFLICT: RunUpdates._change_decided,
    E.COMMAND_STARTED: RunUpdates._command_started,
    E.COMMAND_OUTPUT: RunUpdates._command_output,
    E.COMMAND_COMPLETED: RunUpdates._command_finished,
    E.COMMAND_FAILED: RunUpdates._command_finished,
    E.PAUSED_FOR_INPUT: RunUpdates._question,
    E.RESUMED: RunUpdates._answer,
    E.MCP_TOOL_CALLED: RunUpdates._mcp_call,
    E.MCP_SERVER_FAILED: RunUpdates._mcp_failed,
    E.ERROR: RunUpdates._error,
    E.FINAL_SUMMARY: RunUpdates._summary,
}
