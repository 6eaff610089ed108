"""The ``agent_runs`` table."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, Unpack

import msgspec

from devfactory.protocol.enums import RunStatus
from devfactory.protocol.events import Event
from devfactory.protocol.runs import Run, RunMetadata, TokenUsage

from .. import records
from ..clock import now_iso
from ..codec import dump, load
from ..ports.rows import NewEvent, NewRun, RunFields
from .database import Database
from .events import insert_events

_UPDATABLE = frozenset(RunFields.__annotations__)


class SqliteRunRepository:
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
        run, _ = await self.db.write(_insert, new, None, None)
        return run

    async def create_recorded(
        self, new: NewRun, *, branch: Callable[[int], str], event: NewEvent
    ) -> tuple[Run, Event]:
        run, events = await self.db.write(_insert, new, branch, event)
        return run, events[0]

    async def get(self, run_id: int) -> Run | None:
        row = await self.db.fetchone("SELECT * FROM agent_runs WHERE id = ?", (run_id,))
        return None if row is None else records.run(row)

    async def list(
        self, project_id: int, statuses: Iterable[RunStatus] | None = None, limit: int = 50
    ) -> builtins.list[Run]:
        wanted = [s.value for s in statuses or ()]
        if wanted:
            marks = ",".join("?" * len(wanted))
            rows = await self.db.fetchall(
                f"SELECT * FROM agent_runs WHERE project_id = ? AND status IN ({marks})"
                " ORDER BY id DESC LIMIT ?",
                (project_id, *wanted, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM agent_runs WHERE project_id = ? ORDER BY id DESC LIMIT ?",
                (project_id, limit),
            )
        return [records.run(row) for row in rows]

    async def total_usage(self, project_id: int) -> TokenUsage:
        rows = await self.db.fetchall(
            "SELECT metadata FROM agent_runs WHERE project_id = ?", (project_id,)
        )
        total = TokenUsage()
        for row in rows:
            usage = load(row["metadata"], RunMetadata).usage
            total.input_tokens += usage.input_tokens
            total.output_tokens += usage.output_tokens
            total.cached_input_tokens += usage.cached_input_tokens
            if usage.cost_usd is not None:
                total.cost_usd = (total.cost_usd or 0.0) + usage.cost_usd
        return total

    async def queued(self, project_id: int) -> builtins.list[Run]:
        rows = await self.db.fetchall(
            "SELECT * FROM agent_runs WHERE project_id = ? AND status = 'queued'"
            " ORDER BY queued_at, id",
            (project_id,),
        )
        return [records.run(row) for row in rows]

    async def update(
        self, run_id: int, *, expect_status: RunStatus | None = None, **fields: Unpack[RunFields]
    ) -> Run | None:
        found = await self.db.write(_update, run_id, expect_status, fields, None)
        return None if found is None else found[0]

    async def transition(
        self, run_id: int, *, expect_status: RunStatus, event: NewEvent, **fields: Unpack[RunFields]
    ) -> tuple[Run, Event] | None:
        found = await self.db.write(_update, run_id, expect_status, fields, event)
        return None if found is None else (found[0], found[1][0])

    async def owner(self, run_id: int) -> str | None:
        value = await self.db.scalar("SELECT owner FROM agent_runs WHERE id = ?", (run_id,))
        return None if value is None else str(value)


# -- functions run on the writer thread, inside one transaction ---------------------------------


def _insert(
    conn: sqlite3.Connection,
    new: NewRun,
    branch: Callable[[int], str] | None,
    event: NewEvent | None,
) -> tuple[Run, builtins.list[Event]]:
    now = now_iso()
    run_id = conn.execute(
        "INSERT INTO agent_runs (project_id, title, prompt, status, agent, provider, model,"
        " mode, retry_of, metadata, created_at, queued_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
    ).lastrowid
    assert run_id is not None
    if branch is not None:
        conn.execute("UPDATE agent_runs SET branch_name = ? WHERE id = ?", (branch(run_id), run_id))
    events = (
        []
        if event is None
        else insert_events(conn, [msgspec.structs.replace(event, run_id=run_id)])
    )
    return records.run(
        conn.execute("SELECT * FROM agent_runs WHERE id = ?", (run_id,)).fetchone()
    ), events


def _update(
    conn: sqlite3.Connection,
    run_id: int,
    expect_status: RunStatus | None,
    fields: dict[str, Any],
    event: NewEvent | None,
) -> tuple[Run, builtins.list[Event]] | None:
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = [
        dump(value) if name == "metadata" else getattr(value, "value", value)
        for name, value in fields.items()
    ]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    sql = f"UPDATE agent_runs SET {assignments} WHERE id = ?"
    params: builtins.list[Any] = [*values, run_id]
    if expect_status is not None:
        sql += " AND status = ?"
        params.append(expect_status.value)
    if conn.execute(sql, params).rowcount == 0 and expect_status is not None:
        return None
    row = conn.execute("SELECT * FROM agent_runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    return records.run(row), [] if event is None else insert_events(conn, [event])
