"""The ``run_reviews`` and ``review_comments`` tables."""

from __future__ import annotations

from devfactory.protocol.changes import ReviewComment, RunReview
from devfactory.protocol.enums import ReviewDecision

from ..clock import now_iso
from ..codec import row_to
from .database import Database


class SqliteReviewRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def submit(self, run_id: int, decision: ReviewDecision, notes: str) -> RunReview:
        review_id = await self.db.execute(
            "INSERT INTO run_reviews (run_id, decision, notes, created_at) VALUES (?,?,?,?)",
            (run_id, decision.value, notes, now_iso()),
        )
        row = await self.db.fetchone("SELECT * FROM run_reviews WHERE id = ?", (review_id,))
        return row_to(RunReview, row)

    async def latest(self, run_id: int) -> RunReview | None:
        row = await self.db.fetchone(
            "SELECT * FROM run_reviews WHERE run_id = ? ORDER BY id DESC LIMIT 1", (run_id,)
        )
        return None if row is None else row_to(RunReview, row)

    async def add_comment(self, run_id: int, change_id: int, line: int, body: str) -> ReviewComment:
        comment_id = await self.db.execute(
            "INSERT INTO review_comments (run_id, change_id, line, body, created_at)"
            " VALUES (?,?,?,?,?)",
            (run_id, change_id, line, body, now_iso()),
        )
        comment = await self.comment(comment_id)
        assert comment is not None
        return comment

    async def comment(self, comment_id: int) -> ReviewComment | None:
        row = await self.db.fetchone("SELECT * FROM review_comments WHERE id = ?", (comment_id,))
        return None if row is None else row_to(ReviewComment, row)

    async def resolve(self, comment_id: int, resolved: bool) -> ReviewComment | None:
        await self.db.execute(
            "UPDATE review_comments SET resolved = ? WHERE id = ?", (resolved, comment_id)
        )
        return await self.comment(comment_id)

    async def comments(
        self, *, run_id: int | None, change_id: int | None, include_resolved: bool
    ) -> list[ReviewComment]:
        sql = "SELECT * FROM review_comments WHERE 1 = 1"
        params: list[object] = []
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        if change_id is not None:
            sql += " AND change_id = ?"
            params.append(change_id)
        if not include_resolved:
            sql += " AND resolved = 0"
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [row_to(ReviewComment, row) for row in rows]
