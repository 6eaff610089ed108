"""The ``snapshots`` table (the commits live under ``refs/devfactory/snapshots/<id>``)."""

from __future__ import annotations

import builtins

from devfactory.protocol.enums import SnapshotType
from devfactory.protocol.snapshots import Snapshot

from ..clock import now_iso
from ..codec import row_to
from .database import Database


class PostgresSnapshotRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_id(self) -> int:
        # The identity's sequence, read without taking a value: like SQLite's sqlite_sequence,
        # what the next insert gets unless another one comes first.
        value = await self.db.scalar(
            "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END"
            " FROM snapshots_id_seq"
        )
        return int(value)

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
        row = await self.db.returning(
            "INSERT INTO snapshots (project_id, run_id, type, description, ref, commit_sha,"
            " tree_sha, files_changed, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)"
            " RETURNING *",
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
        return row_to(Snapshot, row)

    async def get(self, snapshot_id: int) -> Snapshot | None:
        row = await self.db.fetchone("SELECT * FROM snapshots WHERE id = %s", (snapshot_id,))
        return None if row is None else row_to(Snapshot, row)

    async def list(
        self, project_id: int, run_id: int | None = None, limit: int = 50
    ) -> builtins.list[Snapshot]:
        if run_id is None:
            rows = await self.db.fetchall(
                "SELECT * FROM snapshots WHERE project_id = %s ORDER BY id DESC LIMIT %s",
                (project_id, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM snapshots WHERE run_id = %s ORDER BY id DESC LIMIT %s",
                (run_id, limit),
            )
        return [row_to(Snapshot, row) for row in rows]
