"""The ``tasks`` and ``task_dependencies`` tables: a run's plan as ordered, dependent steps."""

from __future__ import annotations

import builtins
import sqlite3
from typing import NamedTuple

from devfactory.protocol.enums import TaskStatus

from ..clock import now_iso
from ..database import Database


class Task(NamedTuple):
    id: int
    run_id: int
    position: int
    title: str
    status: TaskStatus
    depends_on: tuple[int, ...]


class TaskRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def replace_plan(self, run_id: int, titles: builtins.list[str]) -> builtins.list[Task]:
        """Store a plan: one task per step, each depending on the one before."""
        await self.db.write(_replace_plan, run_id, titles, now_iso())
        return await self.list(run_id)

    async def set_status(self, task_id: int, status: TaskStatus) -> None:
        await self.db.execute(
            "UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?",
            (status.value, now_iso(), task_id),
        )

    async def list(self, run_id: int) -> builtins.list[Task]:
        rows = await self.db.fetchall(
            "SELECT t.id, t.run_id, t.position, t.title, t.status,"
            " group_concat(d.depends_on_id) AS deps FROM tasks t"
            " LEFT JOIN task_dependencies d ON d.task_id = t.id"
            " WHERE t.run_id = ? GROUP BY t.id ORDER BY t.position",
            (run_id,),
        )
        return [
            Task(
                row["id"],
                row["run_id"],
                row["position"],
                row["title"],
                TaskStatus(row["status"]),
                tuple(int(d) for d in (row["deps"] or "").split(",") if d),
            )
            for row in rows
        ]


def _replace_plan(conn: sqlite3.Connection, run_id: int, titles: list[str], now: str) -> None:
    conn.execute("DELETE FROM tasks WHERE run_id = ?", (run_id,))
    previous: int | None = None
    for position, title in enumerate(titles):
        cursor = conn.execute(
            "INSERT INTO tasks (run_id, position, title, created_at, updated_at)"
            " VALUES (?,?,?,?,?)",
            (run_id, position, title, now, now),
        )
        task_id = int(cursor.lastrowid or 0)
        if previous is not None:
            conn.execute(
                "INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (?,?)",
                (task_id, previous),
            )
        previous = task_id
