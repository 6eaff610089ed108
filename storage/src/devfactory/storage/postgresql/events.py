"""The ``agent_events`` table: append-only, ids numbered per project in commit order."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from devfactory.protocol.events import Event

from .. import records
from ..ports.rows import NewEvent
from .database import Connection, Database
from .pgcodec import dump
from .wakeups import CHANNEL, EventWakeups


class PostgresEventRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.wakeups = EventWakeups(db.url)

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
                "SELECT * FROM agent_events WHERE project_id = %s"
                " AND payload ->> 'initiativeId' = %s AND payload ->> 'initiativeId' IS NOT NULL"
                " AND id > %s ORDER BY id LIMIT %s",
                (project_id, str(initiative_id), since, limit),
            )
        elif run_id is None:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_events WHERE project_id = %s AND id > %s ORDER BY id LIMIT %s",
                (project_id, since, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_events WHERE run_id = %s AND id > %s ORDER BY id LIMIT %s",
                (run_id, since, limit),
            )
        return [records.event(row) for row in rows]

    async def wait_for_events(self, project_id: int, timeout: float) -> bool:
        return await self.wakeups.wait(project_id, timeout)

    async def latest_id(self, project_id: int) -> int:
        latest = await self.db.scalar(
            "SELECT max(id) FROM agent_events WHERE project_id = %s", (project_id,)
        )
        return int(latest or 0)


async def insert_events(conn: Connection, events: Sequence[NewEvent]) -> builtins.list[Event]:
    """Insert events inside the caller's transaction; return them with their ids.

    Each project's ids are taken from its ``event_counters`` row, whose lock this transaction
    then holds until it ends: the next appender waits, so ids become visible in order (see the
    migration). Projects are locked in id order, so two batches never wait on each other.
    """
    counts: dict[int, int] = {}
    for event in events:
        counts[event.project_id] = counts.get(event.project_id, 0) + 1
    next_id: dict[int, int] = {}
    for project_id in sorted(counts):
        row = await (
            await conn.execute(
                "INSERT INTO event_counters AS c (project_id, last_id) VALUES (%s, %s)"
                " ON CONFLICT (project_id) DO UPDATE SET last_id = c.last_id + excluded.last_id"
                " RETURNING last_id",
                (project_id, counts[project_id]),
            )
        ).fetchone()
        assert row is not None
        next_id[project_id] = int(row["last_id"]) - counts[project_id] + 1
    for project_id in sorted(counts):  # one wake-up per project and batch, sent at commit
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(project_id)))
    stored = []
    for e in events:
        stored.append(records.recorded(e, next_id[e.project_id]))
        next_id[e.project_id] += 1
    async with conn.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO agent_events (project_id, id, run_id, type, severity, title, message,"
            " payload, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            [
                (
                    e.project_id,
                    e.id,
                    e.run_id,
                    e.type.value,
                    e.severity.value,
                    e.title,
                    e.message,
                    dump(e.payload),
                    e.created_at,
                )
                for e in stored
            ],
        )
    return stored
