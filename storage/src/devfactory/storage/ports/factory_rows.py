"""The rows the factory's ports take: records before they have an id, the fields an update
may set, and what a run of an initiative is for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

from msgspec import Struct

from devfactory.protocol.enums import (
    AgentRole,
    ArtifactKind,
    InitiativeMode,
    InitiativeStatus,
    PhaseStatus,
    ProposalAction,
    ProposalStatus,
    ProposalTarget,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from devfactory.protocol.tasks import Checkpoint

from .rows import NewEvent

R = TypeVar("R")
EventFor = Callable[[R], NewEvent]
"""Builds the event that records a write from the record as written (its id known): run on
the writer thread inside the write's transaction, so the record and its event are one."""


class NewInitiative(Struct, frozen=True, kw_only=True):
    project_id: int
    name: str
    goal: str
    mode: InitiativeMode
    branch: str
    status: InitiativeStatus = InitiativeStatus.ACTIVE
    base_snapshot_id: int | None = None
    base_commit: str | None = None
    provider: str | None = None
    model: str | None = None


class InitiativeFields(TypedDict, total=False):
    status: InitiativeStatus
    name: str
    base_snapshot_id: int | None
    base_commit: str | None
    result_run_id: int | None
    completed_at: str | None


class NewPhase(Struct, frozen=True, kw_only=True):
    initiative_id: int
    name: str
    description: str = ""
    status: PhaseStatus = PhaseStatus.APPROVED
    depends_on: list[int] = []


class PhaseFields(TypedDict, total=False):
    status: PhaseStatus
    name: str
    description: str
    depends_on: list[int]
    base_commit: str | None
    revision: int


class NewTask(Struct, frozen=True, kw_only=True):
    initiative_id: int
    phase_id: int
    title: str
    agent: AgentRole
    description: str = ""
    parent_id: int | None = None
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM
    depends_on: list[int] = []


class TaskFields(TypedDict, total=False):
    status: TaskStatus
    title: str
    description: str
    phase_id: int
    priority: TaskPriority
    agent: AgentRole
    summary: str | None
    checkpoint: Checkpoint | None
    failed_reason: str | None
    merged_commit: str | None
    depends_on: list[int]


class InitiativeRun(Struct, frozen=True, kw_only=True):
    """A run that executes a task of an initiative."""

    run_id: int
    initiative_id: int
    task_id: int
    handled: bool = False
    """Its end has been acted on (merged, recorded): never twice."""


class NewProposal(Struct, frozen=True, kw_only=True):
    initiative_id: int
    target: ProposalTarget
    action: ProposalAction
    title: str
    summary: str = ""
    content: str = ""
    metadata: dict[str, Any] = {}
    phase_id: int | None = None
    task_id: int | None = None
    source_run_id: int | None = None
    chat_session_id: int | None = None


class ProposalFields(TypedDict, total=False):
    status: ProposalStatus
    title: str
    summary: str
    content: str
    metadata: dict[str, Any]
    created_id: int | None
    decided_at: str | None


class NewArtifact(Struct, frozen=True, kw_only=True):
    initiative_id: int
    kind: ArtifactKind
    name: str
    source_role: AgentRole
    content: dict[str, Any]
    task_id: int | None = None
    run_id: int | None = None
