"""What runs need from outside and offer to their workers, as small typed interfaces.

``Proposals`` is how a run offers what it changed for review (the review feature implements
it; without review, changes stay in the run's worktree). ``RunRecord`` is what a worker may do
to its own run's record (the manager implements it), so the worker never holds the manager.
"""

from __future__ import annotations

from typing import Any, Protocol

from devfactory.protocol.changes import Change
from devfactory.protocol.enums import RunStatus
from devfactory.protocol.runs import Run


class Proposals(Protocol):
    async def propose(self, run: Run, base_commit: str, path: str) -> Change | None:
        """Offer ``path`` of the run's worktree, compared with ``base_commit``, for review;
        None when there is nothing to review (unchanged, or refused and reported)."""
        ...

    async def run_finishing(
        self, run: Run, base_commit: str, summary: str, files: list[str]
    ) -> None:
        """The run is about to complete (its last proposals, e.g. a changelog entry)."""
        ...

    async def run_completed(self, run: Run) -> None:
        """The run completed (yolo mode applies its changes now)."""
        ...

    async def superseded(self, run: Run, reason: str) -> None:
        """The run goes back to work (a follow-up): what it proposed so far is stale."""
        ...

    async def proposed_files(self, run: Run) -> list[tuple[str, bytes | None]] | None:
        """Each path the run changed, as it last proposed it (None: deleted); None when
        they are not all known (not stored): what a worktree made again elsewhere holds
        beyond the run's base."""
        ...


class NoProposals:
    """A daemon without review: a run's changes stay in its worktree and branch."""

    async def propose(self, run: Run, base_commit: str, path: str) -> Change | None:
        return None

    async def run_finishing(
        self, run: Run, base_commit: str, summary: str, files: list[str]
    ) -> None:
        return None

    async def run_completed(self, run: Run) -> None:
        return None

    async def superseded(self, run: Run, reason: str) -> None:
        return None

    async def proposed_files(self, run: Run) -> list[tuple[str, bytes | None]] | None:
        return None  # nothing was proposed: the run's work is only in its worktree


class RunRecord(Protocol):
    """Changes to a run's record: status through the one choke point, other fields plainly."""

    async def transition(
        self, run_id: int, target: RunStatus, *, reason: str | None = None, **fields: Any
    ) -> Run: ...

    async def update(self, run_id: int, **fields: Any) -> Run: ...

    async def resume(self, run_id: int) -> Run: ...
