"""The ``hitl_requests`` table: questions runs ask the user."""

from __future__ import annotations

import builtins
from typing import Any

from devfactory.protocol.enums import HitlAction, HitlStatus
from devfactory.protocol.hitl import HitlRequest

from .. import records
from ..clock import now_iso
from .database import Database
from .pgcodec import dump


class PostgresHitlRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        run_id: int,
        question: str,
        choices: builtins.list[str],
        tool_call_id: str | None = None,
        *,
        kind: str = "question",
    ) -> HitlRequest:
        row = await self.db.returning(
            "INSERT INTO hitl_requests (run_id, question, choices, tool_call_id, kind, created_at)"
            " VALUES (%s,%s,%s,%s,%s,%s) RETURNING *",
            (run_id, question, dump(choices), tool_call_id, kind, now_iso()),
        )
        return records.question(row)

    async def get(self, request_id: int) -> HitlRequest | None:
        row = await self.db.fetchone("SELECT * FROM hitl_requests WHERE id = %s", (request_id,))
        return None if row is None else records.question(row)

    async def answer(self, request_id: int, action: HitlAction, text: str | None) -> HitlRequest:
        row = await self.db.returning(
            "UPDATE hitl_requests SET status = 'answered', response_action = %s,"
            " response_text = %s, answered_at = %s WHERE id = %s RETURNING *",
            (action.value, text, now_iso(), request_id),
        )
        assert row is not None, f"no question {request_id}"
        return records.question(row)

    async def cancel_pending(self, run_id: int) -> None:
        await self.db.execute(
            "UPDATE hitl_requests SET status = 'cancelled'"
            " WHERE run_id = %s AND status = 'pending'",
            (run_id,),
        )

    async def list(
        self, project_id: int, run_id: int | None = None, status: HitlStatus | None = None
    ) -> builtins.list[HitlRequest]:
        sql = (
            "SELECT h.* FROM hitl_requests h JOIN agent_runs r ON r.id = h.run_id"
            " WHERE r.project_id = %s"
        )
        params: builtins.list[Any] = [project_id]
        if run_id is not None:
            sql += " AND h.run_id = %s"
            params.append(run_id)
        if status is not None:
            sql += " AND h.status = %s"
            params.append(status.value)
        rows = await self.db.fetchall(sql + " ORDER BY h.id", params)
        return [records.question(row) for row in rows]
