"""The ``proposals`` and ``initiative_artifacts`` tables: what planning agents suggest to the
user, and the typed handoffs they give each other."""

from __future__ import annotations

import builtins
import sqlite3
from typing import Any, Unpack

from devfactory.protocol.enums import ProposalStatus
from devfactory.protocol.events import Event
from devfactory.protocol.proposals import ContextArtifact, Proposal

from .. import records
from ..clock import now_iso
from ..ports.factory_rows import EventFor, NewArtifact, NewProposal, ProposalFields
from . import writes
from .database import Database


def _read_proposal(conn: sqlite3.Connection, proposal_id: int) -> Proposal:
    return records.proposal(
        conn.execute("SELECT * FROM proposals WHERE id = ?", (proposal_id,)).fetchone()
    )


class SqliteProposalRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, new: NewProposal, event: EventFor[Proposal] | None = None
    ) -> tuple[Proposal, Event | None]:
        return await self.db.write(_create, new, event)

    async def get(self, proposal_id: int) -> Proposal | None:
        row = await self.db.fetchone("SELECT * FROM proposals WHERE id = ?", (proposal_id,))
        return None if row is None else records.proposal(row)

    async def list(
        self, initiative_id: int, status: ProposalStatus | None = None
    ) -> builtins.list[Proposal]:
        sql = "SELECT * FROM proposals WHERE initiative_id = ?"
        params: builtins.list[Any] = [initiative_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [records.proposal(row) for row in rows]

    async def update(
        self,
        proposal_id: int,
        *,
        expect_status: ProposalStatus | None = None,
        event: EventFor[Proposal] | None = None,
        **fields: Unpack[ProposalFields],
    ) -> tuple[Proposal, Event | None] | None:
        return await self.db.write(
            writes.update_recorded,
            "proposals",
            _read_proposal,
            proposal_id,
            expect_status,
            fields,
            event,
            False,
        )

    # -- typed handoffs ------------------------------------------------------------------------

    async def add_artifact(
        self, new: NewArtifact, event: EventFor[ContextArtifact] | None = None
    ) -> tuple[ContextArtifact, Event | None]:
        return await self.db.write(_add_artifact, new, event)

    async def artifacts(
        self, initiative_id: int, name: str | None = None
    ) -> builtins.list[ContextArtifact]:
        sql = "SELECT * FROM initiative_artifacts WHERE initiative_id = ?"
        params: builtins.list[Any] = [initiative_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [records.artifact(row) for row in rows]


def _create(
    conn: sqlite3.Connection, new: NewProposal, event: EventFor[Proposal] | None
) -> tuple[Proposal, Event | None]:
    values = records.values_of(new)
    proposal_id = writes.insert(
        conn,
        "proposals",
        {**values, "status": ProposalStatus.PENDING, "created_at": now_iso()},
    )
    return writes.recorded(conn, _read_proposal(conn, proposal_id), event)


def _add_artifact(
    conn: sqlite3.Connection, new: NewArtifact, event: EventFor[ContextArtifact] | None
) -> tuple[ContextArtifact, Event | None]:
    values = records.values_of(new)
    artifact_id = writes.insert(conn, "initiative_artifacts", {**values, "created_at": now_iso()})
    row = conn.execute("SELECT * FROM initiative_artifacts WHERE id = ?", (artifact_id,))
    return writes.recorded(conn, records.artifact(row.fetchone()), event)
