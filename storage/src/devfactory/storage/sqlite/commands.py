"""The ``command_executions`` table."""

from __future__ import annotations

import builtins

from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.events import TestCounts

from .. import records
from ..clock import now_iso
from ..codec import dump
from ..ports.rows import OpenCommand
from .database import Database


class SqliteCommandRepository:
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
        execution_id = await self.db.execute(
            "INSERT INTO command_executions (project_id, run_id, command, args, working_dir,"
            " timeout_s, started_at, finished_at, sandboxed, was_blocked, block_reason, owner,"
            " marker) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
        execution = await self.get(execution_id)
        assert execution is not None
        return execution

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
        await self.db.execute(
            "UPDATE command_executions SET finished_at = ?, exit_code = ?, was_killed = ?,"
            " stdout_path = ?, stderr_path = ?, output_tail = ?, test_framework = ?,"
            " test_counts = ? WHERE id = ?",
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
        execution = await self.get(execution_id)
        assert execution is not None
        return execution

    async def abandon(
        self, execution_id: int, reason: str, *, was_killed: bool = False
    ) -> CommandExecution | None:
        changed = await self.db.update(
            "UPDATE command_executions SET finished_at = ?, output_tail = ?, was_killed = ?"
            " WHERE id = ? AND finished_at IS NULL",
            (now_iso(), reason, was_killed, execution_id),
        )
        return await self.get(execution_id) if changed else None

    async def open(self, project_id: int) -> builtins.list[OpenCommand]:
        rows = await self.db.fetchall(
            "SELECT id, run_id, command, owner, marker FROM command_executions"
            " WHERE project_id = ? AND finished_at IS NULL ORDER BY id",
            (project_id,),
        )
        return [OpenCommand(*row) for row in rows]

    async def get(self, execution_id: int) -> CommandExecution | None:
        row = await self.db.fetchone(
            "SELECT * FROM command_executions WHERE id = ?", (execution_id,)
        )
        return None if row is None else records.command(row)

    async def list(self, run_id: int) -> builtins.list[CommandExecution]:
        rows = await self.db.fetchall(
            "SELECT * FROM command_executions WHERE run_id = ? ORDER BY started_at, id",
            (run_id,),
        )
        return [records.command(row) for row in rows]
