"""The one table of allowed run status transitions."""

from __future__ import annotations

from devfactory.protocol.enums import RunStatus

S = RunStatus

ALLOWED: dict[RunStatus | None, frozenset[RunStatus]] = {
    None: frozenset({S.DRAFT, S.QUEUED}),
    S.DRAFT: frozenset({S.QUEUED, S.CANCELLED}),
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED, S.FAILED}),
    S.RUNNING: frozenset({S.PAUSED, S.WAITING_FOR_USER, S.COMPLETED, S.FAILED, S.CANCELLED}),
    # A team worker's run that paused or asked ends its segment there: the resume or the
    # answer queues it for the next segment, on whichever worker takes it.
    S.PAUSED: frozenset({S.RUNNING, S.QUEUED, S.CANCELLED, S.FAILED}),
    S.WAITING_FOR_USER: frozenset({S.RUNNING, S.QUEUED, S.CANCELLED, S.FAILED}),
    # Review comments and follow-up messages send a run back to work on the same worktree
    # (a follow-up also continues a failed or cancelled run's conversation).
    S.COMPLETED: frozenset({S.QUEUED}),
    S.FAILED: frozenset({S.QUEUED}),
    S.CANCELLED: frozenset({S.QUEUED}),
}


def can_transition(current: RunStatus | None, target: RunStatus) -> bool:
    return target in ALLOWED[current]
