"""The ``snapshots`` table (the commits live under ``refs/devfactory/snapshots/<id>``)."""

from __future__ import annotations

import builtins
from typing import Any

from devfactory.protocol.enums import SnapshotOrigin, SnapshotType
from devfactory.protocol.events import Event
from devfactory.protocol.snapshots import Snapshot

from ..clock import now_iso
from ..codec import row_to
from ..errors import DatabaseError
from ..ports.rows import NewEvent
from .database import Connection, Database
from .events import insert_events


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


async def _insert(
    conn: Connection, values: tuple[Any, ...], event: NewEvent
) -> tuple[Snapshot, Event]:
    row = await (
        await conn.execute(
            "INSERT INTO snapshots (id, project_id, run_id, type, origin, description, ref,"
            " commit_sha, tree_sha, files_changed, created_at)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
            " ON CONFLICT (id) DO NOTHING RETURNING *",
            values,
        )
    ).fetchone()
    if row is None:
        raise DatabaseError(f"snapshot {values[0]} exists already: take the id from next_id()")
    # An id given by hand does not move the identity's sequence: move it past this one, so
    # next_id() and a later insert never hand it out again.
    await conn.execute(
        "SELECT setval('snapshots_id_seq',"
        " greatest(%s, (SELECT last_value FROM snapshots_id_seq)))",
        (values[0],),
    )
    return row_to(Snapshot, row), (await insert_events(conn, [event]))[0]
