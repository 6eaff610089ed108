"""The ``documentation_updates`` and ``context_artifacts`` tables: what runs wrote down."""

from __future__ import annotations

from devfactory.protocol.enums import ArtifactKind

from ..clock import now_iso
from ..database import Database


class DocumentationRepository:
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

    async def updates(self, project_id: int) -> list[tuple[str, str, int | None]]:
        """(path, kind, run_id) of every update, oldest first."""
        rows = await self.db.fetchall(
            "SELECT path, kind, run_id FROM documentation_updates WHERE project_id = ? ORDER BY id",
            (project_id,),
        )
        return [(row["path"], row["kind"], row["run_id"]) for row in rows]

    async def save_artifact(self, run_id: int, kind: ArtifactKind, name: str, content: str) -> int:
        return await self.db.execute(
            "INSERT INTO context_artifacts (run_id, kind, name, content, created_at)"
            " VALUES (?,?,?,?,?)",
            (run_id, kind.value, name, content, now_iso()),
        )

    async def artifacts(
        self, run_id: int, kind: ArtifactKind | None = None
    ) -> list[tuple[str, str]]:
        """(name, content) of a run's artifacts, oldest first."""
        if kind is None:
            rows = await self.db.fetchall(
                "SELECT name, content FROM context_artifacts WHERE run_id = ? ORDER BY id",
                (run_id,),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT name, content FROM context_artifacts WHERE run_id = ? AND kind = ?"
                " ORDER BY id",
                (run_id, kind.value),
            )
        return [(row["name"], row["content"]) for row in rows]
