"""The ``initiative_tasks``, ``initiative_task_dependencies`` and ``initiative_runs`` tables:
an initiative's tasks, the DAG between them, and the runs that executed them."""

from __future__ import annotations

import builtins
from typing import Any, Unpack

from psycopg.rows import DictRow

from devfactory.protocol.enums import TaskStatus
from devfactory.protocol.events import Event
from devfactory.protocol.tasks import Task

from .. import records
from ..clock import now_iso
from ..ports.factory_rows import EventFor, InitiativeRun, NewTask, TaskFields
from . import writes
from .database import Connection, Database

_TASKS = (
    "SELECT t.*,"
    " ARRAY(SELECT depends_on_id FROM initiative_task_dependencies WHERE task_id = t.id"
    "  ORDER BY depends_on_id) AS depends_on,"
    " ARRAY(SELECT run_id FROM initiative_runs WHERE task_id = t.id ORDER BY run_id) AS run_ids"
    " FROM initiative_tasks t"
)
"""Tasks with their dependencies and runs, in one statement."""


def _task(row: DictRow) -> Task:
    return records.task(row, row["depends_on"], row["run_ids"])


async def _read_task(conn: Connection, task_id: int) -> Task:
    row = await (await conn.execute(_TASKS + " WHERE t.id = %s", (task_id,))).fetchone()
    assert row is not None
    return _task(row)


class PostgresInitiativeTaskRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, new: NewTask, event: EventFor[Task] | None = None
    ) -> tuple[Task, Event | None]:
        return await self.db.write(insert_task, new, event)

    async def get(self, task_id: int) -> Task | None:
        row = await self.db.fetchone(_TASKS + " WHERE t.id = %s", (task_id,))
        return None if row is None else _task(row)

    async def list(self, initiative_id: int) -> builtins.list[Task]:
        rows = await self.db.fetchall(
            _TASKS + " JOIN phases p ON p.id = t.phase_id WHERE t.initiative_id = %s"
            " ORDER BY p.position, t.position, t.id",
            (initiative_id,),
        )
        return [_task(row) for row in rows]

    async def update(
        self,
        task_id: int,
        *,
        expect_status: TaskStatus | None = None,
        event: EventFor[Task] | None = None,
        **fields: Unpack[TaskFields],
    ) -> tuple[Task, Event | None] | None:
        return await self.db.write(_update, task_id, expect_status, dict(fields), event)

    # -- the initiative's runs -----------------------------------------------------------------

    async def add_run(self, run: InitiativeRun) -> None:
        await self.db.execute(
            "INSERT INTO initiative_runs (run_id, initiative_id, task_id) VALUES (%s,%s,%s)",
            (run.run_id, run.initiative_id, run.task_id),
        )

    async def run(self, run_id: int) -> InitiativeRun | None:
        row = await self.db.fetchone("SELECT * FROM initiative_runs WHERE run_id = %s", (run_id,))
        return None if row is None else records.initiative_run(row)

    async def unhandled_runs(self, project_id: int) -> builtins.list[InitiativeRun]:
        rows = await self.db.fetchall(
            "SELECT r.* FROM initiative_runs r JOIN initiatives i ON i.id = r.initiative_id"
            " WHERE i.project_id = %s AND NOT r.handled ORDER BY r.run_id",
            (project_id,),
        )
        return [records.initiative_run(row) for row in rows]

    async def mark_handled(self, run_id: int) -> bool:
        changed = await self.db.execute(
            "UPDATE initiative_runs SET handled = true WHERE run_id = %s AND NOT handled",
            (run_id,),
        )
        return changed > 0


# -- functions run inside one transaction ---------------------------------------------------------


async def insert_task(
    conn: Connection, new: NewTask, event: EventFor[Task] | None
) -> tuple[Task, Event | None]:
    now = now_iso()
    # The phase's row, locked: two tasks appended at once get different positions.
    await conn.execute("SELECT 1 FROM phases WHERE id = %s FOR UPDATE", (new.phase_id,))
    last = await (
        await conn.execute(
            "SELECT max(position) AS last FROM initiative_tasks WHERE phase_id = %s",
            (new.phase_id,),
        )
    ).fetchone()
    row = await writes.insert(
        conn,
        "initiative_tasks",
        {
            **records.values_of(new, "depends_on"),
            "status": TaskStatus.PENDING,
            "position": 0 if last is None or last["last"] is None else last["last"] + 1,
            "created_at": now,
            "updated_at": now,
        },
    )
    await _set_dependencies(conn, row["id"], new.depends_on)
    return await writes.recorded(conn, await _read_task(conn, row["id"]), event)


async def _update(
    conn: Connection,
    task_id: int,
    expect_status: TaskStatus | None,
    fields: dict[str, Any],
    event: EventFor[Task] | None,
) -> tuple[Task, Event | None] | None:
    depends_on = fields.pop("depends_on", None)
    changed = {**fields, "updated_at": now_iso()}
    if await writes.update(conn, "initiative_tasks", task_id, changed, expect_status) is None:
        return None
    if depends_on is not None:
        await _set_dependencies(conn, task_id, depends_on)
    return await writes.recorded(conn, await _read_task(conn, task_id), event)


async def _set_dependencies(conn: Connection, task_id: int, depends_on: list[int]) -> None:
    await conn.execute("DELETE FROM initiative_task_dependencies WHERE task_id = %s", (task_id,))
    async with conn.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO initiative_task_dependencies (task_id, depends_on_id) VALUES (%s,%s)",
            [(task_id, dep) for dep in dict.fromkeys(depends_on)],
        )
