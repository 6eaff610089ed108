"""The ``run_reviews`` and ``review_comments`` tables."""

from __future__ import annotations

from devfactory.protocol.changes import ReviewComment, RunReview
from devfactory.protocol.enums import ReviewDecision

from ..clock import now_iso
from ..codec import row_to
from .database import Database


class PostgresReviewRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def submit(self, run_id: int, decision: ReviewDecision, notes: str) -> RunReview:
        row = await self.db.returning(
            "INSERT INTO run_reviews (run_id, decision, notes, created_at) VALUES (%s,%s,%s,%s)"
            " RETURNING *",
            (run_id, decision.value, notes, now_iso()),
        )
        return row_to(RunReview, row)

    async def latest(self, run_id: int) -> RunReview | None:
        row = await self.db.fetchone(
            "SELECT * FROM run_reviews WHERE run_id = %s ORDER BY id DESC LIMIT 1", (run_id,)
        )
        return None if row is None else row_to(RunReview, row)

    async def add_comment(self, run_id: int, change_id: int, line: int, body: str) -> ReviewComment:
        row = await self.db.returning(
            "INSERT INTO review_comments (run_id, change_id, line, body, created_at)"
            " VALUES (%s,%s,%s,%s,%s) RETURNING *",
            (run_id, change_id, line, body, now_iso()),
        )
        return row_to(ReviewComment, row)

    async def comment(self, comment_id: int) -> ReviewComment | None:
        row = await self.db.fetchone("SELECT * FROM review_comments WHERE id = %s", (comment_id,))
        return None if row is None else row_to(ReviewComment, row)

    async def resolve(self, comment_id: int, resolved: bool) -> ReviewComment | None:
        row = await self.db.returning(
            "UPDATE review_comments SET resolved = %s WHERE id = %s RETURNING *",
            (resolved, comment_id),
        )
        return None if row is None else row_to(ReviewComment, row)

    async def comments(
        self, *, run_id: int | None, change_id: int | None, include_resolved: bool
    ) -> list[ReviewComment]:
        rows = await self.db.fetchall(
            "SELECT * FROM review_comments WHERE (%(run)s::bigint IS NULL OR run_id = %(run)s)"
            " AND (%(change)s::bigint IS NULL OR change_id = %(change)s)"
            " AND (%(all)s OR NOT resolved) ORDER BY id",
            {"run": run_id, "change": change_id, "all": include_resolved},
        )
        return [row_to(ReviewComment, row) for row in rows]
