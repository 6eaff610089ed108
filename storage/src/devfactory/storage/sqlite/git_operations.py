"""The ``git_operations`` table: the audit log of every git command the daemon runs."""

from __future__ import annotations

import builtins

from devfactory.protocol.git import GitOperation

from .. import records
from ..clock import now_iso
from ..codec import dump
from .database import Database

_MAX_OUTPUT = 64 * 1024


class SqliteGitOperationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        *,
        project_id: int,
        run_id: int | None,
        operation: str,
        args: builtins.list[str],
        exit_code: int,
        stdout: str,
        stderr: str,
        duration_ms: float,
    ) -> int:
        return await self.db.execute(
            "INSERT INTO git_operations (project_id, run_id, operation, args, exit_code, stdout,"
            " stderr, duration_ms, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                project_id,
                run_id,
                operation,
                dump(args),
                exit_code,
                stdout[:_MAX_OUTPUT],
                stderr[:_MAX_OUTPUT],
                duration_ms,
                now_iso(),
            ),
        )

    async def list(
        self, project_id: int, run_id: int | None = None, limit: int = 200
    ) -> builtins.list[GitOperation]:
        if run_id is None:
            rows = await self.db.fetchall(
                "SELECT * FROM git_operations WHERE project_id = ? ORDER BY id DESC LIMIT ?",
                (project_id, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM git_operations WHERE run_id = ? ORDER BY id DESC LIMIT ?",
                (run_id, limit),
            )
        return [records.git_operation(row) for row in rows]
