"""The ``agent_events`` table: append-only, ids numbered per project in commit order, and each
run's events numbered per run under the run's lease (migration 0005)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from devfactory.protocol.events import Event

from .. import records
from ..errors import LeaseLost
from ..ports.rows import NewEvent
from .database import FENCES, Connection, Database
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

    A run's events are numbered per run (``run_seq``) first, by the statement that checks the
    run's lease when this process holds one (``FENCES``): a worker that lost the run gets
    ``LeaseLost`` and writes nothing. Then each project's ids are taken from its
    ``event_counters`` row. The locks are taken runs first, then projects, each in id order
    (as a run's status change does: its row, then its event), so two writers never wait on
    each other; they are held until the transaction ends, so ids become visible in order.
    """
    fences = FENCES.get()
    per_run: dict[int, int] = {}
    counts: dict[int, int] = {}
    for event in events:
        counts[event.project_id] = counts.get(event.project_id, 0) + 1
        if event.run_id is not None:
            per_run[event.run_id] = per_run.get(event.run_id, 0) + 1
    next_seq = {
        run_id: await _take_run_seq(conn, run_id, per_run[run_id], fences.get(run_id))
        for run_id in sorted(per_run)
    }
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
    stored: builtins.list[Event] = []
    rows: builtins.list[tuple[Event, int | None]] = []
    for new in events:
        recorded = records.recorded(new, next_id[new.project_id])
        next_id[new.project_id] += 1
        seq = None
        if new.run_id is not None:
            seq = next_seq[new.run_id]
            next_seq[new.run_id] += 1
        stored.append(recorded)
        rows.append((recorded, seq))
    async with conn.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO agent_events (project_id, id, run_id, run_seq, type, severity, title,"
            " message, payload, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            [
                (
                    e.project_id,
                    e.id,
                    e.run_id,
                    seq,
                    e.type.value,
                    e.severity.value,
                    e.title,
                    e.message,
                    dump(e.payload),
                    e.created_at,
                )
                for e, seq in rows
            ],
        )
    return stored


async def _take_run_seq(conn: Connection, run_id: int, count: int, epoch: int | None) -> int:
    """The first of ``count`` numbers in the run's event sequence; with ``epoch`` (this
    process's lease of the run), only while the run's lease is still that epoch."""
    if epoch is None:
        cursor = await conn.execute(
            "UPDATE agent_runs SET event_seq = event_seq + %s WHERE id = %s RETURNING event_seq",
            (count, run_id),
        )
    else:
        cursor = await conn.execute(
            "UPDATE agent_runs SET event_seq = event_seq + %s WHERE id = %s AND lease_epoch = %s"
            " RETURNING event_seq",
            (count, run_id, epoch),
        )
    row = await cursor.fetchone()
    if row is None:
        if epoch is not None:
            raise LeaseLost(run_id, epoch)
        return 1  # no such run: the foreign key refuses the insert with its own error
    return int(row["event_seq"]) - count + 1
