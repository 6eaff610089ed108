"""Ports of the factory's aggregates: initiatives with their phases and phase comments, the
task graph and the runs that executed it, proposals and handoffs, agent-to-agent questions and
chats.

Writes that change what clients see take ``event`` (an ``EventFor``: the event built from the
record as written) and store both in one transaction, so a status and the event that announces
it are never apart; status changes are compare-and-set on ``expect_status`` because several
daemons may serve one workspace.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Protocol, Unpack

from devfactory.protocol.enums import (
    AgentRole,
    ConversationStatus,
    DiffSide,
    InitiativeStatus,
    PhaseStatus,
    ProposalStatus,
    TaskStatus,
)
from devfactory.protocol.events import Event
from devfactory.protocol.initiatives import Initiative, Phase, PhaseComment
from devfactory.protocol.proposals import (
    ChatMessage,
    ChatSession,
    ContextArtifact,
    Conversation,
    Proposal,
)
from devfactory.protocol.tasks import Task

from .factory_rows import (
    EventFor,
    InitiativeFields,
    InitiativeRun,
    NewArtifact,
    NewInitiative,
    NewPhase,
    NewProposal,
    NewTask,
    PhaseFields,
    ProposalFields,
    TaskFields,
)


class InitiativeRepository(Protocol):
    """Initiatives, their ordered phases and the comments on a phase's combined diff."""

    async def create(
        self, new: NewInitiative, event: EventFor[Initiative] | None = None
    ) -> tuple[Initiative, Event | None]: ...

    async def get(self, initiative_id: int) -> Initiative | None: ...

    async def list(
        self,
        project_id: int,
        statuses: Iterable[InitiativeStatus] | None = None,
        limit: int = 50,
    ) -> builtins.list[Initiative]:
        """Newest first; every status when ``statuses`` is empty or None."""
        ...

    async def update(
        self,
        initiative_id: int,
        *,
        expect_status: InitiativeStatus | None = None,
        event: EventFor[Initiative] | None = None,
        **fields: Unpack[InitiativeFields],
    ) -> tuple[Initiative, Event | None] | None:
        """Set fields (compare-and-set on ``expect_status``) and record ``event``; None when
        the initiative is not (or no longer) in ``expect_status``."""
        ...

    async def create_phase(
        self, new: NewPhase, event: EventFor[Phase] | None = None
    ) -> tuple[Phase, Event | None]:
        """Append a phase after the initiative's last one."""
        ...

    async def get_phase(self, phase_id: int) -> Phase | None: ...

    async def phases(self, initiative_id: int) -> builtins.list[Phase]:
        """In order."""
        ...

    async def update_phase(
        self,
        phase_id: int,
        *,
        expect_status: PhaseStatus | None = None,
        event: EventFor[Phase] | None = None,
        **fields: Unpack[PhaseFields],
    ) -> tuple[Phase, Event | None] | None:
        """Like :meth:`update`, for a phase."""
        ...

    async def add_comment(
        self, phase_id: int, path: str, line: int, side: DiffSide, body: str
    ) -> PhaseComment: ...

    async def get_comment(self, comment_id: int) -> PhaseComment | None: ...

    async def comments(
        self, phase_id: int, include_resolved: bool = False
    ) -> builtins.list[PhaseComment]:
        """By path, then line."""
        ...

    async def resolve_comments(self, comment_ids: builtins.list[int]) -> None: ...


class InitiativeTaskRepository(Protocol):
    """An initiative's tasks with the DAG between them, and the runs that executed them."""

    async def create(
        self, new: NewTask, event: EventFor[Task] | None = None
    ) -> tuple[Task, Event | None]:
        """Append a task (pending) to its phase, with its dependencies."""
        ...

    async def get(self, task_id: int) -> Task | None: ...

    async def list(self, initiative_id: int) -> builtins.list[Task]:
        """Every task of the initiative, by phase order then task order."""
        ...

    async def update(
        self,
        task_id: int,
        *,
        expect_status: TaskStatus | None = None,
        event: EventFor[Task] | None = None,
        **fields: Unpack[TaskFields],
    ) -> tuple[Task, Event | None] | None:
        """Set fields (``depends_on`` replaces the dependencies); compare-and-set on
        ``expect_status``; None when the task is not (or no longer) in it."""
        ...

    async def add_run(self, run: InitiativeRun) -> None:
        """Record that ``run.run_id`` executes ``run.task_id`` (its end not yet handled)."""
        ...

    async def run(self, run_id: int) -> InitiativeRun | None: ...

    async def unhandled_runs(self, project_id: int) -> builtins.list[InitiativeRun]:
        """Runs of the project's initiatives whose end has not been acted on, oldest first."""
        ...

    async def mark_handled(self, run_id: int) -> bool:
        """Record that the run's end was acted on; False when it already was (never twice)."""
        ...


class ProposalRepository(Protocol):
    """What planning agents suggest to the user, and the typed handoffs they give each other."""

    async def create(
        self, new: NewProposal, event: EventFor[Proposal] | None = None
    ) -> tuple[Proposal, Event | None]:
        """A pending proposal."""
        ...

    async def get(self, proposal_id: int) -> Proposal | None: ...

    async def list(
        self, initiative_id: int, status: ProposalStatus | None = None
    ) -> builtins.list[Proposal]:
        """Oldest first (the order they were proposed in); every status when None."""
        ...

    async def update(
        self,
        proposal_id: int,
        *,
        expect_status: ProposalStatus | None = None,
        event: EventFor[Proposal] | None = None,
        **fields: Unpack[ProposalFields],
    ) -> tuple[Proposal, Event | None] | None:
        """Compare-and-set on ``expect_status`` (a proposal is decided once)."""
        ...

    async def add_artifact(
        self, new: NewArtifact, event: EventFor[ContextArtifact] | None = None
    ) -> tuple[ContextArtifact, Event | None]: ...

    async def artifacts(
        self, initiative_id: int, name: str | None = None
    ) -> builtins.list[ContextArtifact]:
        """Oldest first; only those of schema ``name`` when given."""
        ...


class ConversationRepository(Protocol):
    """Questions agents ask each other through the orchestrator, and the user's chats."""

    async def ask(
        self, initiative_id: int, from_task_id: int | None, to_task_id: int, question: str
    ) -> Conversation:
        """A pending question to the agent of ``to_task_id``."""
        ...

    async def get(self, conversation_id: int) -> Conversation | None: ...

    async def list(self, initiative_id: int) -> builtins.list[Conversation]:
        """Oldest first."""
        ...

    async def set_answer_run(self, conversation_id: int, run_id: int) -> None:
        """The run that answers the question."""
        ...

    async def close(
        self, conversation_id: int, status: ConversationStatus, answer: str | None
    ) -> Conversation | None:
        """Answer (or cancel) a pending question; None when it was no longer pending."""
        ...

    async def start_chat(
        self, initiative_id: int, phase_id: int | None, task_id: int | None, agent: AgentRole
    ) -> ChatSession: ...

    async def add_message(
        self, session_id: int, role: str, text: str, run_id: int | None = None
    ) -> ChatMessage: ...

    async def chat(self, session_id: int) -> ChatSession | None:
        """The session with its messages, oldest first."""
        ...

    async def chats(self, initiative_id: int) -> builtins.list[ChatSession]:
        """Oldest first, each with its messages."""
        ...
