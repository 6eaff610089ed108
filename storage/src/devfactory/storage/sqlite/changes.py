"""The ``workspace_files`` table: one proposed change per (run, path)."""

from __future__ import annotations

import builtins
import sqlite3
from typing import Any

from devfactory.protocol.changes import Change, Hunk
from devfactory.protocol.enums import ChangeAction, ChangeStatus

from .. import records
from ..clock import now_iso
from ..codec import dump
from .database import Database


class SqliteChangeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(
        self,
        *,
        project_id: int,
        run_id: int,
        path: str,
        base_commit: str,
        action: ChangeAction,
        before_hash: str | None,
        after_hash: str | None,
        diff: str | None,
        diff_path: str | None,
        hunks: builtins.list[Hunk],
        event_id: int | None,
    ) -> Change:
        now = now_iso()
        values = (
            base_commit,
            action.value,
            before_hash,
            after_hash,
            diff,
            diff_path,
            dump(hunks),
            event_id,
            now,
        )
        keys = (project_id, run_id, path, now)
        change_id = await self.db.write(_upsert, values, keys)
        change = await self.get(change_id)
        assert change is not None
        return change

    async def get(self, change_id: int) -> Change | None:
        row = await self.db.fetchone("SELECT * FROM workspace_files WHERE id = ?", (change_id,))
        return None if row is None else records.change(row)

    async def list(
        self,
        project_id: int,
        *,
        run_id: int | None = None,
        path: str | None = None,
        status: ChangeStatus | None = None,
    ) -> builtins.list[Change]:
        sql = "SELECT * FROM workspace_files WHERE project_id = ?"
        params: builtins.list[Any] = [project_id]
        for column, value in (("run_id", run_id), ("path", path), ("status", status)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(getattr(value, "value", value))
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [records.change(row) for row in rows]

    async def paths(self, project_id: int) -> builtins.list[str]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT path FROM workspace_files WHERE project_id = ?", (project_id,)
        )
        return [row[0] for row in rows]

    async def set_diff_path(self, change_id: int, diff_path: str) -> Change:
        await self.db.execute(
            "UPDATE workspace_files SET diff_path = ? WHERE id = ?", (diff_path, change_id)
        )
        change = await self.get(change_id)
        assert change is not None
        return change

    async def set_status(
        self,
        change_id: int,
        status: ChangeStatus,
        *,
        reason: str | None = None,
        hunks: builtins.list[Hunk] | None = None,
    ) -> Change:
        now = now_iso()
        applied_at = now if status is ChangeStatus.APPLIED else None
        if hunks is None:
            await self.db.execute(
                "UPDATE workspace_files SET status = ?, reason = ?, updated_at = ?,"
                " applied_at = coalesce(?, applied_at) WHERE id = ?",
                (status.value, reason, now, applied_at, change_id),
            )
        else:
            await self.db.execute(
                "UPDATE workspace_files SET status = ?, reason = ?, updated_at = ?, hunks = ?,"
                " applied_at = coalesce(?, applied_at) WHERE id = ?",
                (status.value, reason, now, dump(hunks), applied_at, change_id),
            )
        change = await self.get(change_id)
        assert change is not None
        return change


def _upsert(conn: sqlite3.Connection, values: tuple[Any, ...], keys: tuple[Any, ...]) -> int:
    """Replace the unreviewed proposal of (run, path) or insert one; returns its id."""
    _, run_id, path, _ = keys
    existing = conn.execute(
        "SELECT id FROM workspace_files WHERE run_id = ? AND path = ?"
        " AND status IN ('proposed','conflict','stale')",
        (run_id, path),
    ).fetchone()
    if existing:
        conn.execute(
            "UPDATE workspace_files SET base_commit = ?, action = ?, before_hash = ?,"
            " after_hash = ?,"
            " diff = ?, diff_path = ?, hunks = ?, event_id = ?, updated_at = ?,"
            " status = 'proposed', reason = NULL WHERE id = ?",
            (*values, existing[0]),
        )
        return int(existing[0])
    cursor = conn.execute(
        "INSERT INTO workspace_files (base_commit, action, before_hash, after_hash, diff,"
        " diff_path, hunks, event_id, updated_at, project_id, run_id, path, status,"
        " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'proposed',?)",
        (*values, *keys),
    )
    return int(cursor.lastrowid or 0)
