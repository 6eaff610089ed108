"""Review as the runs' ``Proposals`` port: how a run's changes become proposals."""

from __future__ import annotations

from devfactory.protocol.changes import Change
from devfactory.protocol.runs import Run

from .feedback import Feedback
from .service import ReviewService


class ReviewProposals:
    """Each file a run changes is proposed as it changes; as the run finishes, its
    CHANGELOG_AI.md entry is proposed; once it completed, yolo mode applies everything."""

    def __init__(self, review: ReviewService) -> None:
        self.review = review

    async def propose(self, run: Run, base_commit: str, path: str) -> Change | None:
        return await self.review.propose(run, base_commit, path)

    async def run_finishing(
        self, run: Run, base_commit: str, summary: str, files: list[str]
    ) -> None:
        await Feedback(self.review).propose_changelog(run, base_commit, summary, files)

    async def run_completed(self, run: Run) -> None:
        await self.review.apply_completed(run)

    async def superseded(self, run: Run, reason: str) -> None:
        await self.review.supersede_proposed(run, reason)

    async def proposed_files(self, run: Run) -> list[tuple[str, bytes | None]] | None:
        return await self.review.proposed_files(run)
