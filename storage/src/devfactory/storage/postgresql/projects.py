"""The ``projects`` table: one row per workspace root."""

from __future__ import annotations

from devfactory.protocol.project import LanguageStat, Project

from .. import records
from ..clock import now_iso
from .database import Database
from .pgcodec import dump


class PostgresProjectRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def register(
        self,
        *,
        root_path: str,
        name: str,
        slug: str,
        default_branch: str | None,
        current_branch: str | None,
    ) -> Project:
        now = now_iso()
        row = await self.db.returning(
            "INSERT INTO projects (name, slug, root_path, default_branch, current_branch,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (root_path) DO UPDATE SET name = excluded.name, slug = excluded.slug,"
            " default_branch = excluded.default_branch, current_branch = excluded.current_branch,"
            " updated_at = excluded.updated_at RETURNING *",
            (name, slug, root_path, default_branch, current_branch, now, now),
        )
        return records.project(row)

    async def set_detection(
        self, project_id: int, languages: list[LanguageStat], frameworks: list[str]
    ) -> None:
        await self.db.execute(
            "UPDATE projects SET languages = %s, frameworks = %s, updated_at = %s WHERE id = %s",
            (dump(languages), dump(frameworks), now_iso(), project_id),
        )

    async def get(self, project_id: int) -> Project | None:
        row = await self.db.fetchone("SELECT * FROM projects WHERE id = %s", (project_id,))
        return None if row is None else records.project(row)

    async def by_root(self, root_path: str) -> Project | None:
        row = await self.db.fetchone("SELECT * FROM projects WHERE root_path = %s", (root_path,))
        return None if row is None else records.project(row)
