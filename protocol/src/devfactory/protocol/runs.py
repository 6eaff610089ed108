"""Agent runs: ``devfactory/runs/*`` requests and the ``devfactory/runChanged`` record."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ._base import Model, Params
from .context import ContextItem
from .enums import AgentRole, ExecutionMode, RunStatus


class TokenUsage(Model, kw_only=True):
    """Tokens and cost a provider reported for a run, summed over its turns."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    """Of ``input_tokens``, those the provider read from its prompt cache."""
    cost_usd: float | None = None
    """US dollars, from the price table (``agent.models``) or as the provider reported it;
    null when the model has no known price."""


class RunMetadata(Model, kw_only=True):
    """Settings and bookkeeping of a run that are not first-class columns."""

    rag: bool = True
    safe_mode: bool = False
    max_steps: int | None = None
    pause_reason: str | None = None
    usage: TokenUsage = msgspec.field(default_factory=TokenUsage)
    provider_session_id: str | None = None
    """Session of a provider that can resume (claude_code), kept so a retry can continue it."""
    iteration: int = 1
    """Incremented each time review comments send the run back to work."""
    followup: str | None = None
    """The review feedback the current iteration addresses."""
    plan_mode: bool = False
    """The run plans first (reading, searching, read-only commands) and acts only once the
    user approved its plan."""
    plan: str | None = None
    """The plan artifact: what the agent proposed, as the user approved (or edited) it."""
    plan_approved: bool = False
    max_cost_usd: float | None = None
    """Pause the run when its cost reaches this many US dollars."""
    max_tokens: int | None = None
    """Pause the run when its input plus output tokens reach this many."""
    initiative_id: int | None = None
    """The initiative whose task (or result) the run is."""
    base_commit: str | None = None
    """The commit the run's worktree starts from, instead of a pre_run snapshot of the
    workspace (an initiative's task starts on its integration branch)."""
    proposes: bool = True
    """False for an initiative's task runs: their work reaches the workspace through the
    initiative's branch and phase review, not as changes of their own."""


class Run(Model, kw_only=True):
    """One coding task, from prompt to proposed changes."""

    id: int
    project_id: int
    title: str
    prompt: str
    status: RunStatus
    agent: AgentRole
    provider: str
    model: str | None = None
    mode: ExecutionMode = ExecutionMode.REVIEW
    branch_name: str | None = None
    worktree_path: str | None = None
    base_snapshot_id: int | None = None
    retry_of: int | None = None
    current_step: int = 0
    created_at: str
    started_at: str | None = None
    completed_at: str | None = None
    failed_reason: str | None = None
    metadata: RunMetadata = msgspec.field(default_factory=RunMetadata)


class RunCreateParams(Params, kw_only=True):
    """Parameters of ``devfactory/runs/create``."""

    prompt: str
    title: str | None = None
    """Defaults to the prompt's first line."""
    agent: AgentRole = AgentRole.BACKEND
    provider: str | None = None
    """Defaults to the ``defaultProvider`` setting."""
    model: str | None = None
    mode: ExecutionMode = ExecutionMode.REVIEW
    rag: bool = True
    safe_mode: bool = False
    max_steps: Annotated[int, msgspec.Meta(ge=1, le=500)] | None = None
    """Tool steps the run may take, 1 to 500; defaults to the ``maxSteps`` setting."""
    start: bool = True
    """Queue the run at once (otherwise it stays a draft until ``devfactory/runs/start``)."""
    context: list[ContextItem] = []
    """Files, selections and problems from the editor, attached to the prompt (as are the
    prompt's ``@path`` and ``@symbol`` mentions)."""
    plan: bool = False
    """Plan mode: read-only until the user approves the agent's plan."""
    max_cost_usd: Annotated[float, msgspec.Meta(gt=0)] | None = None
    """A budget in US dollars: the run pauses, saying why, when it is spent."""
    max_tokens: Annotated[int, msgspec.Meta(gt=0)] | None = None
    """A budget in tokens (input plus output): the run pauses when it is spent."""


class RunIdParams(Params, kw_only=True):
    """Parameters of the run controls: get, start, pause, resume, cancel, retry."""

    run_id: int


class RunListParams(Params, kw_only=True):
    """Parameters of ``devfactory/runs/list``: newest first."""

    status: list[RunStatus] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    """Runs to return, 1 to 1000."""


class RunList(Model, kw_only=True):
    """Result of ``devfactory/runs/list``."""

    runs: list[Run]
    total_usage: TokenUsage = msgspec.field(default_factory=TokenUsage)
    """Tokens and cost of every run of the project (not only those listed)."""


class RunDirectiveParams(Params, kw_only=True):
    """Parameters of ``devfactory/runs/directive``: a user message for the agent's next turn."""

    run_id: int
    text: str


class RunMessageParams(Params, kw_only=True):
    """Parameters of ``devfactory/runs/message``: talk to the run.

    A running or paused run gets the text at its next step (a directive); a run waiting for
    an answer gets it as the answer; a completed, failed or cancelled run continues the same
    conversation in the same worktree, as its next iteration.
    """

    run_id: int
    text: str
    context: list[ContextItem] = []
    """Files, selections and problems from the editor, attached to the message."""


class RunRewindParams(Params, kw_only=True):
    """Parameters of ``devfactory/runs/rewind``."""

    run_id: int
    step: int
    """Put the worktree back as it was after this step (0: as the run found it) and cut the
    conversation there; proposed changes made after it are withdrawn."""


class RunRewindResult(Model, kw_only=True):
    """Result of ``devfactory/runs/rewind``."""

    run: Run
    step: int
    files: list[str] = []
    """Files of the worktree written or deleted."""


class RunChangedNotification(Model, kw_only=True):
    """``devfactory/runChanged``: a run's record changed (status, step, usage)."""

    run: Run


class StreamNotification(Model, kw_only=True):
    """``devfactory/stream``: model text as it arrives; not persisted (the whole message is)."""

    run_id: int
    delta: str
