"""The ``snapshots`` table (the commits live under ``refs/devfactory/snapshots/<id>``)."""

from __future__ import annotations

import builtins
import sqlite3
from typing import Any

from devfactory.protocol.enums import SnapshotOrigin, SnapshotType
from devfactory.protocol.events import Event
from devfactory.protocol.snapshots import Snapshot

from ..clock import now_iso
from ..codec import row_to
from ..errors import DatabaseError
from ..ports.rows import NewEvent
from .database import Database
from .events import insert_events


class SqliteSnapshotRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def next_id(self) -> int:
        row = await self.db.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'snapshots'")
        return (int(row[0]) if row else 0) + 1

    async def create_recorded(
        self,
        *,
        snapshot_id: int,
        project_id: int,
        run_id: int | None,
        type: SnapshotType,
        origin: SnapshotOrigin,
        description: str,
        ref: str,
        commit_sha: str,
        tree_sha: str,
        files_changed: int,
        event: NewEvent,
    ) -> tuple[Snapshot, Event]:
        values = (snapshot_id, project_id, run_id, type.value, origin.value, description, ref)
        return await self.db.write(
            _insert, (*values, commit_sha, tree_sha, files_changed, now_iso()), event
        )

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


def _insert(
    conn: sqlite3.Connection, values: tuple[Any, ...], event: NewEvent
) -> tuple[Snapshot, Event]:
    inserted = conn.execute(
        "INSERT INTO snapshots (id, project_id, run_id, type, origin, description, ref,"
        " commit_sha, tree_sha, files_changed, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (id) DO NOTHING",
        values,
    )
    if inserted.rowcount == 0:
        raise DatabaseError(f"snapshot {values[0]} exists already: take the id from next_id()")
    row = conn.execute("SELECT * FROM snapshots WHERE id = ?", (values[0],)).fetchone()
    return row_to(Snapshot, row), insert_events(conn, [event])[0]
