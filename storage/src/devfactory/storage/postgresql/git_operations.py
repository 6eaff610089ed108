"""The ``git_operations`` table: the audit log of every git command the daemon runs."""

from __future__ import annotations

import builtins

from devfactory.protocol.git import GitOperation

from .. import records
from ..clock import now_iso
from .database import Database
from .pgcodec import dump

_MAX_OUTPUT = 64 * 1024


class PostgresGitOperationRepository:
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
        row = await self.db.returning(
            "INSERT INTO git_operations (project_id, run_id, operation, args, exit_code, stdout,"
            " stderr, duration_ms, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id",
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
        assert row is not None
        return int(row["id"])

    async def list(
        self, project_id: int, run_id: int | None = None, limit: int = 200
    ) -> builtins.list[GitOperation]:
        if run_id is None:
            rows = await self.db.fetchall(
                "SELECT * FROM git_operations WHERE project_id = %s ORDER BY id DESC LIMIT %s",
                (project_id, limit),
            )
        else:
            rows = await self.db.fetchall(
                "SELECT * FROM git_operations WHERE run_id = %s ORDER BY id DESC LIMIT %s",
                (run_id, limit),
            )
        return [records.git_operation(row) for row in rows]
