"""The run status table: what the controls may and may not do."""

from __future__ import annotations

import pytest

from devfactory.protocol.enums import RunStatus
from devfactory.server.runs.transitions import ALLOWED, can_transition

S = RunStatus


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (None, S.DRAFT, True),  # create
        (None, S.QUEUED, True),  # create and start
        (None, S.RUNNING, False),  # a run is always queued first
        (S.DRAFT, S.QUEUED, True),  # start
        (S.DRAFT, S.RUNNING, False),
        (S.DRAFT, S.CANCELLED, True),
        (S.QUEUED, S.RUNNING, True),  # the scheduler claims it
        (S.QUEUED, S.QUEUED, False),  # start twice
        (S.QUEUED, S.PAUSED, False),  # pause a queued run
        (S.QUEUED, S.FAILED, True),
        (S.RUNNING, S.QUEUED, False),  # start twice
        (S.RUNNING, S.RUNNING, False),
        (S.RUNNING, S.PAUSED, True),
        (S.RUNNING, S.WAITING_FOR_USER, True),
        (S.RUNNING, S.COMPLETED, True),
        (S.PAUSED, S.RUNNING, True),  # resume
        (S.PAUSED, S.QUEUED, True),  # resume a team worker's run: its next segment
        (S.WAITING_FOR_USER, S.QUEUED, True),  # answered, on a team worker
        (S.PAUSED, S.PAUSED, False),
        (S.PAUSED, S.COMPLETED, False),  # only a running run finishes
        (S.WAITING_FOR_USER, S.RUNNING, True),  # answered
        (S.WAITING_FOR_USER, S.PAUSED, False),
        (S.COMPLETED, S.RUNNING, False),  # resume a completed run
        (S.COMPLETED, S.CANCELLED, False),
        (S.COMPLETED, S.QUEUED, True),  # review comments send it back to work
        (S.FAILED, S.QUEUED, True),  # a follow-up message continues its conversation
        (S.FAILED, S.RUNNING, False),
        (S.CANCELLED, S.CANCELLED, False),  # cancel a cancelled run
        (S.CANCELLED, S.QUEUED, True),
    ],
)
def test_transition_table(current: RunStatus | None, target: RunStatus, allowed: bool):
    assert can_transition(current, target) is allowed


def test_every_status_has_a_row_and_is_reachable_from_creation():
    assert set(ALLOWED) == {None, *RunStatus}
    reached: set[RunStatus | None] = {None}
    frontier: list[RunStatus | None] = [None]
    while frontier:
        for target in ALLOWED[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == {None, *RunStatus}


@pytest.mark.parametrize("status", sorted(RunStatus))
def test_only_creation_makes_drafts_and_terminal_runs_stay_put(status: RunStatus):
    assert not can_transition(status, S.DRAFT)
    if status.is_terminal:  # only a review or a follow-up sends a finished run back to work
        assert ALLOWED[status] <= {S.QUEUED}


@pytest.mark.parametrize("status", [S.RUNNING, S.PAUSED, S.WAITING_FOR_USER, S.QUEUED, S.DRAFT])
def test_every_unfinished_run_can_be_cancelled(status: RunStatus):
    assert can_transition(status, S.CANCELLED)


@pytest.mark.parametrize("status", [S.RUNNING, S.PAUSED, S.WAITING_FOR_USER, S.QUEUED])
def test_every_claimed_or_waiting_run_can_fail(status: RunStatus):
    """Crash recovery and provider errors fail runs in any of these states."""
    assert can_transition(status, S.FAILED)
