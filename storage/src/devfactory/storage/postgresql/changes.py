"""The ``workspace_files`` table: one proposed change per (run, path)."""

from __future__ import annotations

import builtins
from typing import Any

from devfactory.protocol.changes import Change, Hunk
from devfactory.protocol.enums import ChangeAction, ChangeStatus

from .. import records
from ..clock import now_iso
from .database import Connection, Database
from .pgcodec import dump


class PostgresChangeRepository:
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
        )
        return await self.db.write(_upsert, values, (project_id, run_id, path), now)

    async def get(self, change_id: int) -> Change | None:
        row = await self.db.fetchone("SELECT * FROM workspace_files WHERE id = %s", (change_id,))
        return None if row is None else records.change(row)

    async def list(
        self,
        project_id: int,
        *,
        run_id: int | None = None,
        path: str | None = None,
        status: ChangeStatus | None = None,
    ) -> builtins.list[Change]:
        sql = "SELECT * FROM workspace_files WHERE project_id = %s"
        params: builtins.list[Any] = [project_id]
        for column, value in (("run_id", run_id), ("path", path), ("status", status)):
            if value is not None:
                sql += f" AND {column} = %s"
                params.append(getattr(value, "value", value))
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [records.change(row) for row in rows]

    async def paths(self, project_id: int) -> builtins.list[str]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT path FROM workspace_files WHERE project_id = %s", (project_id,)
        )
        return [row["path"] for row in rows]

    async def set_diff_path(self, change_id: int, diff_path: str) -> Change:
        row = await self.db.returning(
            "UPDATE workspace_files SET diff_path = %s WHERE id = %s RETURNING *",
            (diff_path, change_id),
        )
        assert row is not None, f"no change {change_id}"
        return records.change(row)

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
        row = await self.db.returning(
            "UPDATE workspace_files SET status = %s, reason = %s, updated_at = %s,"
            " hunks = coalesce(%s::jsonb, hunks), applied_at = coalesce(%s, applied_at)"
            " WHERE id = %s RETURNING *",
            (
                status.value,
                reason,
                now,
                None if hunks is None else dump(hunks),
                applied_at,
                change_id,
            ),
        )
        assert row is not None, f"no change {change_id}"
        return records.change(row)


async def _upsert(
    conn: Connection, values: tuple[Any, ...], keys: tuple[int, int, str], now: str
) -> Change:
    """Replace the unreviewed proposal of (run, path) or insert one."""
    _, run_id, path = keys
    row = await (
        await conn.execute(
            "UPDATE workspace_files SET base_commit = %s, action = %s, before_hash = %s,"
            " after_hash = %s,"
            " diff = %s, diff_path = %s, hunks = %s, event_id = %s, updated_at = %s,"
            " status = 'proposed', reason = NULL"
            " WHERE id = (SELECT id FROM workspace_files WHERE run_id = %s AND path = %s"
            "  AND status IN ('proposed','conflict','stale') ORDER BY id LIMIT 1 FOR UPDATE)"
            " RETURNING *",
            (*values, now, run_id, path),
        )
    ).fetchone()
    if row is None:
        row = await (
            await conn.execute(
                "INSERT INTO workspace_files (base_commit, action, before_hash, after_hash, diff,"
                " diff_path, hunks, event_id, updated_at, project_id, run_id, path, status,"
                " created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'proposed',%s)"
                " RETURNING *",
                (*values, now, *keys, now),
            )
        ).fetchone()
    return records.change(row)
