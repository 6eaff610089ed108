"""Ports of what people and runs say about a run: reviews, comments, documentation written."""

from __future__ import annotations

import builtins
from typing import Protocol

from devfactory.protocol.changes import ReviewComment, RunReview
from devfactory.protocol.enums import ReviewDecision


class ReviewRepository(Protocol):
    """A run's review verdicts and the comments on its changes."""

    async def submit(self, run_id: int, decision: ReviewDecision, notes: str) -> RunReview: ...

    async def latest(self, run_id: int) -> RunReview | None:
        """The run's most recent verdict."""
        ...

    async def add_comment(
        self, run_id: int, change_id: int, line: int, body: str
    ) -> ReviewComment: ...

    async def comment(self, comment_id: int) -> ReviewComment | None: ...

    async def resolve(self, comment_id: int, resolved: bool) -> ReviewComment | None: ...

    async def comments(
        self, *, run_id: int | None, change_id: int | None, include_resolved: bool
    ) -> builtins.list[ReviewComment]:
        """Oldest first, of one run and/or one change."""
        ...


class DocumentationRepository(Protocol):
    """Which documents runs wrote (the project map, changelog entries), and why."""

    async def record_update(
        self,
        *,
        project_id: int,
        run_id: int | None,
        path: str,
        kind: str,
        summary: str = "",
        change_id: int | None = None,
    ) -> int:
        """Record one write of a document; returns its id."""
        ...
