"""``Segment``: how a team worker drives a run (one segment at a time, under a lease)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A run driven by a team worker, one segment at a time (``team/segments.py``)."""

    resumed: bool
    """The run was already running: this worker takes it over from one that stopped, and
    goes on from its stored conversation and worktree."""
    guard: Callable[[], Awaitable[None]]
    """Awaited before each write to the worktree and each command: raises ``LeaseLost`` once
    another worker holds the run's lease."""
