"""The ``agent_runs`` table."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Unpack

import msgspec

from devfactory.protocol.enums import RunStatus
from devfactory.protocol.events import Event
from devfactory.protocol.runs import Run, RunMetadata, TokenUsage

from .. import records
from ..clock import now_iso
from ..codec import row_to
from ..errors import LeaseLost
from ..ports.rows import NewEvent, NewRun, RunFields
from .database import FENCES, Connection, Database
from .events import insert_events
from .pgcodec import dump

_UPDATABLE = frozenset(RunFields.__annotations__)
_TOTAL_USAGE = (
    "SELECT"
    " coalesce(sum((metadata -> 'usage' ->> 'inputTokens')::bigint), 0)::bigint"
    "  AS input_tokens,"
    " coalesce(sum((metadata -> 'usage' ->> 'outputTokens')::bigint), 0)::bigint"
    "  AS output_tokens,"
    " coalesce(sum((metadata -> 'usage' ->> 'cachedInputTokens')::bigint), 0)::bigint"
    "  AS cached_input_tokens,"
    " sum((metadata -> 'usage' ->> 'costUsd')::float8) AS cost_usd"
    " FROM agent_runs WHERE project_id = %s"
)
"""Every run's usage summed in the database (``cost_usd`` null when no run had one)."""
QueuedHook = Callable[[Connection, Run], Awaitable[None]]
"""Called with the connection and the run in the transaction that queues it."""


class PostgresRunRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        project_id: int,
        title: str,
        prompt: str,
        status: RunStatus,
        agent: str,
        provider: str,
        model: str | None,
        mode: str,
        metadata: RunMetadata,
        retry_of: int | None = None,
    ) -> Run:
        new = NewRun(
            project_id, title, prompt, status, agent, provider, model, mode, metadata, retry_of
        )
        run, _ = await self.db.write(_insert, new, None, None, self.db.on_queued)
        return run

    async def create_recorded(
        self, new: NewRun, *, branch: Callable[[int], str], event: NewEvent
    ) -> tuple[Run, Event]:
        run, events = await self.db.write(_insert, new, branch, event, self.db.on_queued)
        return run, events[0]

    async def get(self, run_id: int) -> Run | None:
        row = await self.db.fetchone("SELECT * FROM agent_runs WHERE id = %s", (run_id,))
        return None if row is None else records.run(row)

    async def list(
        self, project_id: int, statuses: Iterable[RunStatus] | None = None, limit: int = 50
    ) -> builtins.list[Run]:
        wanted = [s.value for s in statuses or ()]
        if wanted:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_runs WHERE project_id = %s AND status = ANY(%s)"
                " ORDER BY id DESC LIMIT %s",
                (project_id, wanted, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_runs WHERE project_id = %s ORDER BY id DESC LIMIT %s",
                (project_id, limit),
            )
        return [records.run(row) for row in rows]

    async def total_usage(self, project_id: int) -> TokenUsage:
        row = await self.db.fetchone(_TOTAL_USAGE, (project_id,))
        return row_to(TokenUsage, row)

    async def queued(self, project_id: int) -> builtins.list[Run]:
        rows = await self.db.fetchall(
            "SELECT * FROM agent_runs WHERE project_id = %s AND status = 'queued'"
            " ORDER BY queued_at, id",
            (project_id,),
        )
        return [records.run(row) for row in rows]

    async def update(
        self, run_id: int, *, expect_status: RunStatus | None = None, **fields: Unpack[RunFields]
    ) -> Run | None:
        found = await self.db.write(
            _update, run_id, expect_status, dict(fields), None, self.db.on_queued
        )
        return None if found is None else found[0]

    async def transition(
        self, run_id: int, *, expect_status: RunStatus, event: NewEvent, **fields: Unpack[RunFields]
    ) -> tuple[Run, Event] | None:
        found = await self.db.write(
            _update, run_id, expect_status, dict(fields), event, self.db.on_queued
        )
        return None if found is None else (found[0], found[1][0])

    async def owner(self, run_id: int) -> str | None:
        value = await self.db.scalar("SELECT owner FROM agent_runs WHERE id = %s", (run_id,))
        return None if value is None else str(value)


# -- functions run inside one write transaction -------------------------------------------------


async def _insert(
    conn: Connection,
    new: NewRun,
    branch: Callable[[int], str] | None,
    event: NewEvent | None,
    on_queued: Sequence[QueuedHook],
) -> tuple[Run, builtins.list[Event]]:
    now = now_iso()
    row = await (
        await conn.execute(
            "INSERT INTO agent_runs (project_id, title, prompt, status, agent, provider, model,"
            " mode, retry_of, metadata, created_at, queued_at)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING *",
            (
                new.project_id,
                new.title,
                new.prompt,
                new.status.value,
                new.agent,
                new.provider,
                new.model,
                new.mode,
                new.retry_of,
                dump(new.metadata),
                now,
                now if new.status is RunStatus.QUEUED else None,
            ),
        )
    ).fetchone()
    assert row is not None
    run_id = int(row["id"])
    if branch is not None:
        row = await (
            await conn.execute(
                "UPDATE agent_runs SET branch_name = %s WHERE id = %s RETURNING *",
                (branch(run_id), run_id),
            )
        ).fetchone()
        assert row is not None
    events = (
        []
        if event is None
        else await insert_events(conn, [msgspec.structs.replace(event, run_id=run_id)])
    )
    run = records.run(row)
    if run.status is RunStatus.QUEUED:
        for hook in on_queued:
            await hook(conn, run)
    return run, events


async def _update(
    conn: Connection,
    run_id: int,
    expect_status: RunStatus | None,
    fields: dict[str, Any],
    event: NewEvent | None,
    on_queued: Sequence[QueuedHook],
) -> tuple[Run, builtins.list[Event]] | None:
    """Compare-and-set ``fields``; a worker holding the run's lease writes only while the
    lease is still its epoch (``LeaseLost`` otherwise)."""
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = [
        dump(value) if name == "metadata" else getattr(value, "value", value)
        for name, value in fields.items()
    ]
    # Column names come from RunFields only (checked above), never from the caller's text.
    assignments = ", ".join(f"{name} = %s" for name in fields) or "id = id"
    sql = f"UPDATE agent_runs SET {assignments} WHERE id = %s"
    params: builtins.list[Any] = [*values, run_id]
    if expect_status is not None:
        sql += " AND status = %s"
        params.append(expect_status.value)
    epoch = FENCES.get().get(run_id)
    if epoch is not None:
        sql += " AND lease_epoch = %s"
        params.append(epoch)
    row = await (await conn.execute(sql + " RETURNING *", params)).fetchone()
    if row is None:
        if epoch is not None and await _lease_moved(conn, run_id, epoch):
            raise LeaseLost(run_id, epoch)
        return None
    events = [] if event is None else await insert_events(conn, [event])
    run = records.run(row)
    if fields.get("status") is RunStatus.QUEUED:
        for hook in on_queued:
            await hook(conn, run)
    return run, events


async def _lease_moved(conn: Connection, run_id: int, epoch: int) -> bool:
    cursor = await conn.execute("SELECT lease_epoch FROM agent_runs WHERE id = %s", (run_id,))
    row = await cursor.fetchone()
    return row is not None and int(row["lease_epoch"]) != epoch
