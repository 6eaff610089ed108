"""The ``command_executions`` table."""

from __future__ import annotations

import builtins

from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.events import TestCounts

from .. import records
from ..clock import now_iso
from ..ports.rows import OpenCommand
from .database import Database
from .pgcodec import dump


class PostgresCommandRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(
        self,
        *,
        project_id: int,
        run_id: int | None,
        command: str,
        args: builtins.list[str],
        working_dir: str,
        timeout_s: float,
        sandboxed: bool = False,
        was_blocked: bool = False,
        block_reason: str | None = None,
        owner: str | None = None,
        marker: str | None = None,
    ) -> CommandExecution:
        now = now_iso()
        row = await self.db.returning(
            "INSERT INTO command_executions (project_id, run_id, command, args, working_dir,"
            " timeout_s, started_at, finished_at, sandboxed, was_blocked, block_reason, owner,"
            " marker) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING *",
            (
                project_id,
                run_id,
                command,
                dump(args),
                working_dir,
                timeout_s,
                now,
                now if was_blocked else None,
                sandboxed,
                was_blocked,
                block_reason,
                owner,
                marker,
            ),
        )
        return records.command(row)

    async def finish(
        self,
        execution_id: int,
        *,
        exit_code: int | None,
        was_killed: bool,
        stdout_path: str | None,
        stderr_path: str | None,
        output_tail: str,
        test_framework: str | None = None,
        test_counts: TestCounts | None = None,
    ) -> CommandExecution:
        row = await self.db.returning(
            "UPDATE command_executions SET finished_at = %s, exit_code = %s, was_killed = %s,"
            " stdout_path = %s, stderr_path = %s, output_tail = %s, test_framework = %s,"
            " test_counts = %s WHERE id = %s RETURNING *",
            (
                now_iso(),
                exit_code,
                was_killed,
                stdout_path,
                stderr_path,
                output_tail,
                test_framework,
                None if test_counts is None else dump(test_counts),
                execution_id,
            ),
        )
        assert row is not None, f"no command {execution_id}"
        return records.command(row)

    async def abandon(
        self, execution_id: int, reason: str, *, was_killed: bool = False
    ) -> CommandExecution | None:
        row = await self.db.returning(
            "UPDATE command_executions SET finished_at = %s, output_tail = %s, was_killed = %s"
            " WHERE id = %s AND finished_at IS NULL RETURNING *",
            (now_iso(), reason, was_killed, execution_id),
        )
        return None if row is None else records.command(row)

    async def open(self, project_id: int) -> builtins.list[OpenCommand]:
        rows = await self.db.fetchall(
            "SELECT id, run_id, command, owner, marker FROM command_executions"
            " WHERE project_id = %s AND finished_at IS NULL ORDER BY id",
            (project_id,),
        )
        return [OpenCommand(**row) for row in rows]

    async def get(self, execution_id: int) -> CommandExecution | None:
        row = await self.db.fetchone(
            "SELECT * FROM command_executions WHERE id = %s", (execution_id,)
        )
        return None if row is None else records.command(row)

    async def list(self, run_id: int) -> builtins.list[CommandExecution]:
        rows = await self.db.fetchall(
            "SELECT * FROM command_executions WHERE run_id = %s ORDER BY started_at, id",
            (run_id,),
        )
        return [records.command(row) for row in rows]
