"""The ``agent_events`` table: append-only, ids only grow."""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
from collections.abc import Sequence

from devfactory.protocol.events import Event

from .. import records
from ..codec import dump
from ..ports.rows import NewEvent
from .database import Database


class SqliteEventRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def append(self, events: Sequence[NewEvent]) -> builtins.list[Event]:
        if not events:
            return []
        return await self.db.write(insert_events, events)

    async def list(
        self,
        project_id: int,
        *,
        run_id: int | None = None,
        since: int = 0,
        limit: int = 1000,
        initiative_id: int | None = None,
    ) -> builtins.list[Event]:
        if initiative_id is not None:  # the expression of the agent_events_initiative index
            rows = await self.db.fetchall(
                "SELECT * FROM agent_events WHERE json_extract(payload, '$.initiativeId') = ?"
                " AND json_extract(payload, '$.initiativeId') IS NOT NULL AND id > ?"
                " AND project_id = ? ORDER BY id LIMIT ?",
                (initiative_id, since, project_id, limit),
            )
        elif run_id is None:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_events WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?",
                (project_id, since, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?",
                (run_id, since, limit),
            )
        return [records.event(row) for row in rows]

    async def wait_for_events(self, project_id: int, timeout: float) -> bool:
        """SQLite has no notifications: readers poll at their interval."""
        await asyncio.sleep(timeout)
        return False

    async def latest_id(self, project_id: int) -> int:
        latest = await self.db.scalar(
            "SELECT max(id) FROM agent_events WHERE project_id = ?", (project_id,)
        )
        return int(latest or 0)


def insert_events(conn: sqlite3.Connection, events: Sequence[NewEvent]) -> builtins.list[Event]:
    """Insert events inside the caller's transaction; return them with their ids.

    Inside one write transaction nothing else inserts, so the AUTOINCREMENT ids of the batch
    are consecutive and end at ``last_insert_rowid()``.
    """
    conn.executemany(
        "INSERT INTO agent_events (project_id, run_id, type, severity, title, message,"
        " payload, created_at) VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                e.project_id,
                e.run_id,
                e.type.value,
                e.severity.value,
                e.title,
                e.message,
                dump(e.payload),
                e.created_at,
            )
            for e in events
        ],
    )
    first = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0]) - len(events) + 1
    return [records.recorded(e, first + n) for n, e in enumerate(events)]
