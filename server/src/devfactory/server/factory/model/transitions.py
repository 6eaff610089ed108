"""The tables of allowed status changes of initiatives, phases and tasks.

Every change goes through the orchestrator's one choke point per record, which checks these
tables, persists, records the ``*_status_changed`` event and notifies clients.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from devfactory.protocol.enums import InitiativeStatus, PhaseStatus, TaskStatus

In, P, T = InitiativeStatus, PhaseStatus, TaskStatus
E = TypeVar("E", bound=StrEnum)

INITIATIVE: dict[InitiativeStatus, frozenset[InitiativeStatus]] = {
    In.ACTIVE: frozenset({In.PENDING_REVIEW, In.ARCHIVED}),
    # New work (a phase sent back, a task added) makes a finished initiative active again.
    In.PENDING_REVIEW: frozenset({In.COMPLETED, In.ACTIVE, In.ARCHIVED}),
    In.COMPLETED: frozenset({In.ARCHIVED}),
    In.ARCHIVED: frozenset(),
}

PHASE: dict[PhaseStatus, frozenset[PhaseStatus]] = {
    P.PENDING: frozenset({P.APPROVED}),
    P.APPROVED: frozenset({P.IN_PROGRESS, P.BLOCKED}),
    P.IN_PROGRESS: frozenset({P.PENDING_REVIEW, P.COMPLETED, P.BLOCKED}),
    # Approve, or request changes (revision tasks: back to work).
    P.PENDING_REVIEW: frozenset({P.COMPLETED, P.IN_PROGRESS}),
    P.BLOCKED: frozenset({P.IN_PROGRESS, P.APPROVED}),
    P.COMPLETED: frozenset(),
}

TASK: dict[TaskStatus, frozenset[TaskStatus]] = {
    T.PENDING: frozenset({T.IN_PROGRESS, T.BLOCKED, T.FAILED}),
    # Back to pending: its run's daemon died, the task resumes with a new run.
    T.IN_PROGRESS: frozenset({T.COMPLETED, T.FAILED, T.BLOCKED, T.PENDING}),
    # Blocked: a checkpoint waits for the user, or merged work waits for its merge task.
    T.BLOCKED: frozenset({T.IN_PROGRESS, T.COMPLETED, T.FAILED, T.PENDING}),
    T.FAILED: frozenset({T.PENDING}),  # retried
    T.COMPLETED: frozenset(),  # changes to finished work are new (revision) tasks
}


def allowed(table: dict[E, frozenset[E]], current: E, target: E) -> bool:
    return target in table[current]
