"""The ``documentation_updates`` table: which documents runs wrote, and why."""

from __future__ import annotations

from ..clock import now_iso
from .database import Database


class SqliteDocumentationRepository:
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
        return await self.db.execute(
            "INSERT INTO documentation_updates (project_id, run_id, path, kind, summary,"
            " change_id, created_at) VALUES (?,?,?,?,?,?,?)",
            (project_id, run_id, path, kind, summary, change_id, now_iso()),
        )
