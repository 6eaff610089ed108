"""Payloads of the factory's events (``initiative_*``, ``phase_*``, ``task_*``, ``handoff_*``,
``proposal_*``, ``merge_*``, ``conversation_*``, ``chat_message``).

Each names its initiative, so ``devfactory/events`` replays one initiative's history.
"""

from __future__ import annotations

from ._base import Payload
from .enums import (
    AgentRole,
    EventType,
    InitiativeStatus,
    PhaseStatus,
    ProposalAction,
    ProposalStatus,
    ProposalTarget,
    TaskStatus,
)


class FactoryPayload(Payload, kw_only=True):
    initiative_id: int


class InitiativeEvent(FactoryPayload, kw_only=True):
    """initiative_created and initiative_status_changed."""

    name: str
    status: InitiativeStatus
    from_status: InitiativeStatus | None = None
    reason: str | None = None


class PhaseEvent(FactoryPayload, kw_only=True):
    """phase_created, phase_updated and phase_status_changed."""

    phase_id: int
    name: str
    status: PhaseStatus
    from_status: PhaseStatus | None = None
    reason: str | None = None


class PhaseCommented(FactoryPayload, kw_only=True):
    phase_id: int
    comment_id: int
    path: str
    line: int
    body: str


class TaskEvent(FactoryPayload, kw_only=True):
    """task_created, task_updated and task_status_changed."""

    task_id: int
    phase_id: int
    title: str
    status: TaskStatus
    from_status: TaskStatus | None = None
    reason: str | None = None
    task_run_id: int | None = None
    """The run executing the task, when one does."""


class TaskCheckpoint(FactoryPayload, kw_only=True):
    """A checkpoint task asks the user (answer with ``devfactory/tasks/respond``)."""

    task_id: int
    question: str
    choices: list[str] = []


class HandoffEvent(FactoryPayload, kw_only=True):
    """handoff_created (``artifact_id`` set) and handoff_rejected (``error`` set: sent back
    to the agent, which tries again)."""

    task_id: int | None = None
    artifact_id: int | None = None
    name: str
    source_role: AgentRole
    error: str | None = None


class ProposalEvent(FactoryPayload, kw_only=True):
    """proposal_created, proposal_accepted and proposal_dismissed."""

    proposal_id: int
    target: ProposalTarget
    action: ProposalAction
    title: str
    status: ProposalStatus
    created_id: int | None = None


class MergeEvent(FactoryPayload, kw_only=True):
    """merge_completed and merge_conflict (``conflicts`` named, ``merge_task_id`` to fix)."""

    task_id: int
    branch: str
    commit: str | None = None
    conflicts: list[str] = []
    merge_task_id: int | None = None


class ConversationEvent(FactoryPayload, kw_only=True):
    """conversation_asked and conversation_answered."""

    conversation_id: int
    from_task_id: int | None = None
    to_task_id: int
    question: str
    answer: str | None = None


class ChatMessageEvent(FactoryPayload, kw_only=True):
    session_id: int
    role: str
    text: str


E = EventType
PAYLOAD_TYPES: dict[EventType, type[Payload]] = {
    E.INITIATIVE_CREATED: InitiativeEvent,
    E.INITIATIVE_STATUS_CHANGED: InitiativeEvent,
    E.PHASE_CREATED: PhaseEvent,
    E.PHASE_UPDATED: PhaseEvent,
    E.PHASE_STATUS_CHANGED: PhaseEvent,
    E.PHASE_COMMENTED: PhaseCommented,
    E.TASK_CREATED: TaskEvent,
    E.TASK_UPDATED: TaskEvent,
    E.TASK_STATUS_CHANGED: TaskEvent,
    E.TASK_CHECKPOINT: TaskCheckpoint,
    E.HANDOFF_CREATED: HandoffEvent,
    E.HANDOFF_REJECTED: HandoffEvent,
    E.PROPOSAL_CREATED: ProposalEvent,
    E.PROPOSAL_ACCEPTED: ProposalEvent,
    E.PROPOSAL_DISMISSED: ProposalEvent,
    E.MERGE_COMPLETED: MergeEvent,
    E.MERGE_CONFLICT: MergeEvent,
    E.CONVERSATION_ASKED: ConversationEvent,
    E.CONVERSATION_ANSWERED: ConversationEvent,
    E.CHAT_MESSAGE: ChatMessageEvent,
}
