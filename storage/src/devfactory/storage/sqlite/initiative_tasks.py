"""The ``initiative_tasks``, ``initiative_task_dependencies`` and ``initiative_runs`` tables:
an initiative's tasks, the DAG between them, and the runs that executed them."""

from __future__ import annotations

import builtins
import sqlite3
from collections import defaultdict
from typing import Any, Unpack

from devfactory.protocol.enums import TaskStatus
from devfactory.protocol.events import Event
from devfactory.protocol.tasks import Task

from .. import records
from ..clock import now_iso
from ..ports.factory_rows import EventFor, InitiativeRun, NewTask, TaskFields
from . import writes
from .database import Database

_TASK_RUNS = "SELECT task_id, run_id FROM initiative_runs WHERE"


def _read_task(conn: sqlite3.Connection, task_id: int) -> Task:
    row = conn.execute("SELECT * FROM initiative_tasks WHERE id = ?", (task_id,)).fetchone()
    deps = conn.execute(
        "SELECT depends_on_id FROM initiative_task_dependencies WHERE task_id = ?"
        " ORDER BY depends_on_id",
        (task_id,),
    ).fetchall()
    runs = conn.execute(_TASK_RUNS + " task_id = ? ORDER BY run_id", (task_id,)).fetchall()
    return records.task(row, [d[0] for d in deps], [r[1] for r in runs])


class SqliteInitiativeTaskRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, new: NewTask, event: EventFor[Task] | None = None
    ) -> tuple[Task, Event | None]:
        return await self.db.write(_create, new, event)

    async def get(self, task_id: int) -> Task | None:
        row = await self.db.fetchone("SELECT * FROM initiative_tasks WHERE id = ?", (task_id,))
        if row is None:
            return None
        deps = await self.db.fetchall(
            "SELECT depends_on_id FROM initiative_task_dependencies WHERE task_id = ?"
            " ORDER BY depends_on_id",
            (task_id,),
        )
        runs = await self.db.fetchall(_TASK_RUNS + " task_id = ? ORDER BY run_id", (task_id,))
        return records.task(row, [d[0] for d in deps], [r[1] for r in runs])

    async def list(self, initiative_id: int) -> builtins.list[Task]:
        deps: dict[int, builtins.list[int]] = defaultdict(list)
        for task_id, dep in await self.db.fetchall(
            "SELECT d.task_id, d.depends_on_id FROM initiative_task_dependencies d"
            " JOIN initiative_tasks t ON t.id = d.task_id WHERE t.initiative_id = ?"
            " ORDER BY d.depends_on_id",
            (initiative_id,),
        ):
            deps[task_id].append(dep)
        runs: dict[int, builtins.list[int]] = defaultdict(list)
        for task_id, run_id in await self.db.fetchall(
            _TASK_RUNS + " initiative_id = ? ORDER BY run_id", (initiative_id,)
        ):
            runs[task_id].append(run_id)
        rows = await self.db.fetchall(
            "SELECT t.* FROM initiative_tasks t JOIN phases p ON p.id = t.phase_id"
            " WHERE t.initiative_id = ? ORDER BY p.position, t.position, t.id",
            (initiative_id,),
        )
        return [records.task(row, deps[row["id"]], runs[row["id"]]) for row in rows]

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
            "INSERT INTO initiative_runs (run_id, initiative_id, task_id) VALUES (?,?,?)",
            (run.run_id, run.initiative_id, run.task_id),
        )

    async def run(self, run_id: int) -> InitiativeRun | None:
        row = await self.db.fetchone("SELECT * FROM initiative_runs WHERE run_id = ?", (run_id,))
        return None if row is None else records.initiative_run(row)

    async def unhandled_runs(self, project_id: int) -> builtins.list[InitiativeRun]:
        rows = await self.db.fetchall(
            "SELECT r.* FROM initiative_runs r JOIN initiatives i ON i.id = r.initiative_id"
            " WHERE i.project_id = ? AND r.handled = 0 ORDER BY r.run_id",
            (project_id,),
        )
        return [records.initiative_run(row) for row in rows]

    async def mark_handled(self, run_id: int) -> bool:
        changed = await self.db.write(_mark_handled, run_id)
        return changed


# -- functions run on the writer thread, inside one transaction ---------------------------------


def _create(
    conn: sqlite3.Connection, new: NewTask, event: EventFor[Task] | None
) -> tuple[Task, Event | None]:
    now = now_iso()
    last = conn.execute(
        "SELECT max(position) FROM initiative_tasks WHERE phase_id = ?", (new.phase_id,)
    ).fetchone()[0]
    values = records.values_of(new, "depends_on")
    task_id = writes.insert(
        conn,
        "initiative_tasks",
        {
            **values,
            "status": TaskStatus.PENDING,
            "position": 0 if last is None else last + 1,
            "created_at": now,
            "updated_at": now,
        },
    )
    _set_dependencies(conn, task_id, new.depends_on)
    return writes.recorded(conn, _read_task(conn, task_id), event)


def _update(
    conn: sqlite3.Connection,
    task_id: int,
    expect_status: TaskStatus | None,
    fields: dict[str, Any],
    event: EventFor[Task] | None,
) -> tuple[Task, Event | None] | None:
    depends_on = fields.pop("depends_on", None)
    changed = {**fields, "updated_at": now_iso()}
    if not writes.update(conn, "initiative_tasks", task_id, changed, expect_status):
        return None
    if depends_on is not None:
        _set_dependencies(conn, task_id, depends_on)
    return writes.recorded(conn, _read_task(conn, task_id), event)


def _set_dependencies(conn: sqlite3.Connection, task_id: int, depends_on: list[int]) -> None:
    conn.execute("DELETE FROM initiative_task_dependencies WHERE task_id = ?", (task_id,))
    conn.executemany(
        "INSERT INTO initiative_task_dependencies (task_id, depends_on_id) VALUES (?,?)",
        [(task_id, dep) for dep in dict.fromkeys(depends_on)],
    )


def _mark_handled(conn: sqlite3.Connection, run_id: int) -> bool:
    cursor = conn.execute(
        "UPDATE initiative_runs SET handled = 1 WHERE run_id = ? AND handled = 0", (run_id,)
    )
    return cursor.rowcount > 0
