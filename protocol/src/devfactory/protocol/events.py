"""The persisted event stream: ``devfactory/events`` and ``devfactory/event``.

Every event carries a typed payload. ``PAYLOAD_TYPES`` maps each event type to its payload
Struct; ``decode_payload`` turns the JSON object of an event back into that Struct.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from . import factory_events as factory
from ._base import Model, Params
from ._base import Payload as Payload  # re-exported: every payload type's base
from .context import RulesFile
from .enums import ChangeAction, EventType, OutputStream, RunStatus, Severity, SnapshotType


class Event(Model, kw_only=True):
    """One step of a run (or of the project, when ``run_id`` is null). Ids only grow."""

    id: int
    project_id: int
    run_id: int | None
    type: EventType
    severity: Severity
    title: str
    message: str = ""
    payload: dict[str, Any] = {}
    created_at: str


class EventsParams(Params, kw_only=True):
    """Parameters of ``devfactory/events``: replay events with ``id > since``, oldest first."""

    run_id: int | None = None
    initiative_id: int | None = None
    """Only the events of this initiative (its ``initiative_*``, ``phase_*``, ``task_*``...)."""
    since: Annotated[int, msgspec.Meta(ge=0)] = 0
    """0, or the id of an event already seen."""
    limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1000
    """Events to return, 1 to 10000."""


class EventList(Model, kw_only=True):
    """Result of ``devfactory/events``."""

    events: list[Event]
    last_id: int
    """Id of the last event returned (or ``since`` when none): the next ``since``."""
    has_more: bool


class EventNotification(Model, kw_only=True):
    """``devfactory/event``: an event was committed."""

    event: Event


# --- payloads -------------------------------------------------------------------------------


class SearchHitRef(Payload, kw_only=True):
    path: str
    start_line: int
    end_line: int
    symbol: str | None = None
    score: float = 0.0


class TestCounts(Payload, kw_only=True):
    """Parsed summary of a test command."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.errors == 0


class UserPrompt(Payload, kw_only=True):
    prompt: str
    iteration: int = 1
    follow_up: bool = False
    """A message that continues the run's conversation (``devfactory/runs/message``)."""


class AttachmentRef(Payload, kw_only=True):
    """Something attached to a message: a file, a selection, a symbol, the editor's problems."""

    kind: str
    """file, selection, symbol or diagnostics."""
    path: str
    start_line: int | None = None
    end_line: int | None = None
    note: str = ""
    """How it came: ``@calc.add``, ``selected in the editor``..."""
    chars: int = 0
    truncated: bool = False


class ContextLoaded(Payload, kw_only=True):
    files: list[str] = []
    rag: bool = False
    project_map: bool = False
    rules: list[RulesFile] = []
    """The project rules files the prompt carries (AGENTS.md, CLAUDE.md, .clinerules...)."""
    attachments: list[AttachmentRef] = []


class ContextTruncated(Payload, kw_only=True):
    """Rules files or attachments were cut to their budget (``agent.*MaxChars``)."""

    what: str
    """rules or attachments."""
    details: list[str] = []


class ContextCompacted(Payload, kw_only=True):
    """The conversation neared the model's context window and was compacted."""

    stage: str
    """``tool_outputs`` (old outputs shortened) or ``summary`` (older turns summarized)."""
    tokens_before: int
    tokens_after: int
    messages: int
    context_window: int


class CheckpointCreated(Payload, kw_only=True):
    """A step changed the worktree; ``devfactory/runs/rewind`` can come back to it."""

    step: int
    commit: str
    files: list[str] = []


class RunRewound(Payload, kw_only=True):
    step: int
    commit: str
    files: list[str] = []
    """Files written or deleted to put the worktree back."""
    messages_removed: int = 0
    """Messages of the conversation after the step, now gone."""


class BudgetReached(Payload, kw_only=True):
    """The run spent its ``maxCostUsd`` or ``maxTokens``: it pauses until resumed."""

    reason: str
    cost_usd: float | None = None
    max_cost_usd: float | None = None
    tokens: int = 0
    max_tokens: int | None = None


class ConversationToolCall(Payload, kw_only=True):
    id: str
    name: str
    arguments: dict[str, Any] = {}


class ConversationMessageAdded(Payload, kw_only=True):
    """One message of the run's conversation with the model, as the model was sent it.

    The conversation is these events, replayed in order (a ``run_rewound`` cuts the messages
    of later steps): a follow-up, a review iteration or a restarted daemon continues it.
    """

    step: int
    """The step the message belongs to (0: before the first tool step)."""
    role: str
    """user, assistant or tool."""
    content: str = ""
    tool_calls: list[ConversationToolCall] = []
    tool_call_id: str | None = None
    name: str | None = None
    """For a tool message: the tool's name."""
    paths: list[str] = []
    """Files a user message attaches."""


class RagSearchStarted(Payload, kw_only=True):
    query: str


class RagSearchCompleted(Payload, kw_only=True):
    query: str
    hits: list[SearchHitRef] = []
    took_ms: float = 0.0


class PlanCreated(Payload, kw_only=True):
    plan: str
    steps: list[str] = []
    awaiting_approval: bool = False
    """Plan mode: the run waits for the user to approve, edit or reject the plan."""


class AiMessage(Payload, kw_only=True):
    text: str


class FileTouched(Payload, kw_only=True):
    """file_read, file_created, file_updated, file_deleted."""

    path: str
    start_line: int | None = None
    end_line: int | None = None
    bytes: int | None = None
    change_id: int | None = None


class CommandStarted(Payload, kw_only=True):
    execution_id: int | None = None
    command: str
    origin: str = "agent"
    """Who asked: ``agent`` (the run_command tool) or ``user`` (devfactory/commands/run)."""
    sandboxed: bool = False


class CommandOutput(Payload, kw_only=True):
    execution_id: int | None = None
    stream: OutputStream = OutputStream.STDOUT
    text: str
    truncated: bool = False


class CommandFinished(Payload, kw_only=True):
    """command_completed and command_failed."""

    execution_id: int | None = None
    command: str
    exit_code: int | None = None
    duration_ms: float | None = None
    was_killed: bool = False
    was_blocked: bool = False
    block_reason: str | None = None


class GitStatusChecked(Payload, kw_only=True):
    changed_files: list[str] = []


class GitBranchCreated(Payload, kw_only=True):
    branch: str
    base: str
    worktree_path: str | None = None


class GitDiffCreated(Payload, kw_only=True):
    files: list[str] = []
    insertions: int = 0
    deletions: int = 0


class SnapshotEvent(Payload, kw_only=True):
    """snapshot_created and snapshot_restored."""

    snapshot_id: int
    snapshot_type: SnapshotType
    ref: str
    safety_snapshot_id: int | None = None
    files: list[str] = []


class DocsUpdated(Payload, kw_only=True):
    path: str
    kind: str


class TestEvent(Payload, kw_only=True):
    """test_started, test_completed and test_failed."""

    execution_id: int | None = None
    command: str
    framework: str | None = None
    counts: TestCounts | None = None


class PausedForInput(Payload, kw_only=True):
    request_id: int
    question: str
    choices: list[str] = []


class Resumed(Payload, kw_only=True):
    request_id: int | None = None
    action: str | None = None
    text: str | None = None


class DirectiveReceived(Payload, kw_only=True):
    text: str


class ChangeEvent(Payload, kw_only=True):
    """change_proposed, change_approved, change_rejected, change_applied, change_conflict,
    change_reverted (applied hunks whose text the user undid: proposed again)."""

    change_id: int
    path: str
    action: ChangeAction
    hunks: list[int] | None = None
    reason: str | None = None
    written: bool = False
    """change_applied: the daemon wrote the file on disk itself, as no editor buffer it serves
    held it; an editor with the file loaded reloads it (an initiative in yolo mode applies its
    result with no request of the editor's to answer)."""


class McpToolCalled(Payload, kw_only=True):
    """A run called (or was refused) a tool of an MCP server (``[mcp.servers.NAME]``)."""

    server: str
    tool: str
    arguments: dict[str, Any] = {}
    approval: str
    """``auto`` (the server's autoApprove list), ``user`` (asked and allowed) or ``refused``."""
    is_error: bool = False
    result: str = ""
    """What the model was given (truncated)."""


class McpServerFailed(Payload, kw_only=True):
    """An MCP server could not start, or stopped during the run: its tools are gone."""

    server: str
    message: str


class RunStatusChanged(Payload, kw_only=True):
    from_status: RunStatus | None
    to_status: RunStatus
    reason: str | None = None


class ErrorPayload(Payload, kw_only=True):
    message: str
    detail: str | None = None


class FinalSummary(Payload, kw_only=True):
    summary: str
    files_changed: list[str] = []
    commands_run: int = 0
    tests: TestCounts | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None


PAYLOAD_TYPES: dict[EventType, type[Payload]] = {
    EventType.USER_PROMPT: UserPrompt,
    EventType.AI_CONTEXT_LOADED: ContextLoaded,
    EventType.RAG_SEARCH_STARTED: RagSearchStarted,
    EventType.RAG_SEARCH_COMPLETED: RagSearchCompleted,
    EventType.AI_PLAN_CREATED: PlanCreated,
    EventType.AI_MESSAGE: AiMessage,
    EventType.FILE_READ: FileTouched,
    EventType.FILE_CREATED: FileTouched,
    EventType.FILE_UPDATED: FileTouched,
    EventType.FILE_DELETED: FileTouched,
    EventType.COMMAND_STARTED: CommandStarted,
    EventType.COMMAND_OUTPUT: CommandOutput,
    EventType.COMMAND_FAILED: CommandFinished,
    EventType.COMMAND_COMPLETED: CommandFinished,
    EventType.GIT_STATUS_CHECKED: GitStatusChecked,
    EventType.GIT_BRANCH_CREATED: GitBranchCreated,
    EventType.GIT_DIFF_CREATED: GitDiffCreated,
    EventType.SNAPSHOT_CREATED: SnapshotEvent,
    EventType.SNAPSHOT_RESTORED: SnapshotEvent,
    EventType.DOCS_UPDATED: DocsUpdated,
    EventType.TEST_STARTED: TestEvent,
    EventType.TEST_COMPLETED: TestEvent,
    EventType.TEST_FAILED: TestEvent,
    EventType.PAUSED_FOR_INPUT: PausedForInput,
    EventType.RESUMED: Resumed,
    EventType.DIRECTIVE_RECEIVED: DirectiveReceived,
    EventType.CHANGE_PROPOSED: ChangeEvent,
    EventType.CHANGE_APPROVED: ChangeEvent,
    EventType.CHANGE_REJECTED: ChangeEvent,
    EventType.CHANGE_APPLIED: ChangeEvent,
    EventType.CHANGE_CONFLICT: ChangeEvent,
    EventType.MCP_TOOL_CALLED: McpToolCalled,
    EventType.MCP_SERVER_FAILED: McpServerFailed,
    EventType.CHANGE_REVERTED: ChangeEvent,
    EventType.RUN_STATUS_CHANGED: RunStatusChanged,
    EventType.ERROR: ErrorPayload,
    EventType.FINAL_SUMMARY: FinalSummary,
    EventType.CONTEXT_TRUNCATED: ContextTruncated,
    EventType.CONTEXT_COMPACTED: ContextCompacted,
    EventType.CHECKPOINT_CREATED: CheckpointCreated,
    EventType.RUN_REWOUND: RunRewound,
    EventType.BUDGET_REACHED: BudgetReached,
    EventType.CONVERSATION_MESSAGE_ADDED: ConversationMessageAdded,
    **factory.PAYLOAD_TYPES,
}


def encode_payload(event_type: EventType, payload: Payload) -> dict[str, Any]:
    """Check that ``payload`` is the right Struct for ``event_type`` and turn it into JSON data."""
    expected = PAYLOAD_TYPES[event_type]
    if not isinstance(payload, expected):
        raise TypeError(f"{event_type.value} takes a {expected.__name__} payload, not {payload!r}")
    data: dict[str, Any] = msgspec.to_builtins(payload)
    return data


def decode_payload(event: Event) -> Payload:
    """The typed payload of ``event``."""
    return msgspec.convert(event.payload, PAYLOAD_TYPES[event.type])
