"""The ``documentation_updates`` table: which documents runs wrote, and why."""

from __future__ import annotations

from ..clock import now_iso
from .database import Database


class PostgresDocumentationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

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
        row = await self.db.returning(
            "INSERT INTO documentation_updates (project_id, run_id, path, kind, summary,"
            " change_id, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s) RETURNING id",
            (project_id, run_id, path, kind, summary, change_id, now_iso()),
        )
        assert row is not None
        return int(row["id"])
