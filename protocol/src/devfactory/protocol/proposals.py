"""What agents hand each other and suggest to the user: ``devfactory/proposals/*``,
``devfactory/conversations/*``, ``devfactory/chat/*`` and the context artifacts.

Nothing an agent plans becomes real until the user accepts its proposal (or the initiative
runs in yolo mode).
"""

from __future__ import annotations

from typing import Any

from ._base import Model, Params
from .enums import (
    AgentRole,
    ArtifactKind,
    ConversationStatus,
    ProposalAction,
    ProposalStatus,
    ProposalTarget,
)


class Proposal(Model, kw_only=True):
    """A phase, task or page a planning agent suggests."""

    id: int
    initiative_id: int
    target: ProposalTarget
    action: ProposalAction
    phase_id: int | None = None
    """The phase it updates, or (for a task) the phase it belongs to once known."""
    task_id: int | None = None
    """The task it updates."""
    title: str
    summary: str = ""
    content: str = ""
    """Markdown: the description of the phase or task, or the page."""
    metadata: dict[str, Any] = {}
    """Structured details: a task's ``agent``, ``type``, ``category``, ``priority``,
    ``phase`` (the key of its phase) and ``dependsOn`` (keys of tasks); a phase's
    ``dependsOn``; the ``key`` other proposals name this one by."""
    status: ProposalStatus
    source_run_id: int | None = None
    chat_session_id: int | None = None
    created_id: int | None = None
    """The phase or task made real when it was accepted."""
    created_at: str
    decided_at: str | None = None


class ProposalListParams(Params, kw_only=True):
    initiative_id: int
    status: ProposalStatus | None = ProposalStatus.PENDING


class ProposalList(Model, kw_only=True):
    proposals: list[Proposal]


class ProposalAcceptParams(Params, kw_only=True):
    """Parameters of ``devfactory/proposals/accept``: the fields given are the user's edits,
    applied before the proposal becomes real."""

    proposal_id: int
    title: str | None = None
    summary: str | None = None
    content: str | None = None
    metadata: dict[str, Any] | None = None


class ProposalDismissParams(Params, kw_only=True):
    proposal_id: int
    reason: str | None = None


class ContextArtifact(Model, kw_only=True):
    """A typed handoff: what one role's agent produced for the next (a specification, a
    plan), validated against its schema before anyone sees it."""

    id: int
    initiative_id: int
    task_id: int | None = None
    run_id: int | None = None
    kind: ArtifactKind
    name: str
    """The schema: ``software_specification``, ``implementation_plan``..."""
    source_role: AgentRole
    content: dict[str, Any]
    created_at: str


class ArtifactList(Model, kw_only=True):
    artifacts: list[ContextArtifact]


class Conversation(Model, kw_only=True):
    """A question one task's agent asked another task's agent (tool ``ask_agent``)."""

    id: int
    initiative_id: int
    from_task_id: int | None = None
    to_task_id: int
    question: str
    answer: str | None = None
    status: ConversationStatus
    answer_run_id: int | None = None
    """The run in which the asked agent answered."""
    created_at: str
    answered_at: str | None = None


class ConversationListParams(Params, kw_only=True):
    initiative_id: int


class ConversationList(Model, kw_only=True):
    conversations: list[Conversation]


class ConversationAnswerParams(Params, kw_only=True):
    """Parameters of ``devfactory/conversations/answer``: the user answers in the asked
    agent's place."""

    conversation_id: int
    text: str


class ChatMessage(Model, kw_only=True):
    role: str
    """``user`` or ``agent``."""
    text: str
    run_id: int | None = None
    """The run in which the agent wrote this reply."""
    created_at: str


class ChatSession(Model, kw_only=True):
    """A persistent conversation with an agent about a phase or task; the edits it suggests
    arrive as proposals."""

    id: int
    initiative_id: int
    phase_id: int | None = None
    task_id: int | None = None
    agent: AgentRole
    messages: list[ChatMessage] = []
    created_at: str


class ChatStartParams(Params, kw_only=True):
    """Parameters of ``devfactory/chat/start``: about a phase or a task (or the whole
    initiative when neither is given)."""

    initiative_id: int
    phase_id: int | None = None
    task_id: int | None = None
    agent: AgentRole = AgentRole.ARCHITECT


class ChatSendParams(Params, kw_only=True):
    """Parameters of ``devfactory/chat/send``: answered once the agent replied."""

    session_id: int
    text: str


class ChatSessionParams(Params, kw_only=True):
    session_id: int


class ChatListParams(Params, kw_only=True):
    initiative_id: int


class ChatSessionList(Model, kw_only=True):
    sessions: list[ChatSession]
