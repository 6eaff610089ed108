"""The ``snapshots`` table (the commits live under ``refs/devfactory/snapshots/<id>``)."""

from __future__ import annotations

import builtins

from devfactory.protocol.enums import SnapshotType
from devfactory.protocol.snapshots import Snapshot

from ..clock import now_iso
from ..codec import row_to
from .database import Database


class SqliteSnapshotRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_id(self) -> int:
        row = await self.db.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'snapshots'")
        return (int(row[0]) if row else 0) + 1

    async def create(
        self,
        *,
        project_id: int,
        run_id: int | None,
        type: SnapshotType,
        description: str,
        ref: str,
        commit_sha: str,
        tree_sha: str,
        files_changed: int,
    ) -> Snapshot:
        snapshot_id = await self.db.execute(
            "INSERT INTO snapshots (project_id, run_id, type, description, ref, commit_sha,"
            " tree_sha, files_changed, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                project_id,
                run_id,
                type.value,
                description,
                ref,
                commit_sha,
                tree_sha,
                files_changed,
                now_iso(),
            ),
        )
        snapshot = await self.get(snapshot_id)
        assert snapshot is not None
        return snapshot

    async def get(self, snapshot_id: int) -> Snapshot | None:
        row = await self.db.fetchone("SELECT * FROM snapshots WHERE id = ?", (snapshot_id,))
        return None if row is None else row_to(Snapshot, row)

    async def list(
        self, project_id: int, run_id: int | None = None, limit: int = 50
    ) -> builtins.list[Snapshot]:
        if run_id is None:
            rows = await self.db.fetchall(
                "SELECT * FROM snapshots WHERE project_id = ? ORDER BY id DESC LIMIT ?",
                (project_id, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM snapshots WHERE run_id = ? ORDER BY id DESC LIMIT ?",
                (run_id, limit),
            )
        return [row_to(Snapshot, row) for row in rows]
