"""The ``proposals`` and ``initiative_artifacts`` tables: what planning agents suggest to the
user, and the typed handoffs they give each other."""

from __future__ import annotations

import builtins
from typing import Unpack

from devfactory.protocol.enums import ProposalStatus
from devfactory.protocol.events import Event
from devfactory.protocol.proposals import ContextArtifact, Proposal

from .. import records
from ..clock import now_iso
from ..ports.factory_rows import EventFor, NewArtifact, NewProposal, ProposalFields
from . import writes
from .database import Connection, Database


class PostgresProposalRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, new: NewProposal, event: EventFor[Proposal] | None = None
    ) -> tuple[Proposal, Event | None]:
        return await self.db.write(_create, new, event)

    async def get(self, proposal_id: int) -> Proposal | None:
        row = await self.db.fetchone("SELECT * FROM proposals WHERE id = %s", (proposal_id,))
        return None if row is None else records.proposal(row)

    async def list(
        self, initiative_id: int, status: ProposalStatus | None = None
    ) -> builtins.list[Proposal]:
        rows = await self.db.fetchall(
            "SELECT * FROM proposals WHERE initiative_id = %s"
            " AND (%s::text IS NULL OR status = %s) ORDER BY id",
            (initiative_id, *[None if status is None else status.value] * 2),
        )
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
            records.proposal,
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
        rows = await self.db.fetchall(
            "SELECT * FROM initiative_artifacts WHERE initiative_id = %s"
            " AND (%s::text IS NULL OR name = %s) ORDER BY id",
            (initiative_id, name, name),
        )
        return [records.artifact(row) for row in rows]


async def _create(
    conn: Connection, new: NewProposal, event: EventFor[Proposal] | None
) -> tuple[Proposal, Event | None]:
    row = await writes.insert(
        conn,
        "proposals",
        {**records.values_of(new), "status": ProposalStatus.PENDING, "created_at": now_iso()},
    )
    return await writes.recorded(conn, records.proposal(row), event)


async def _add_artifact(
    conn: Connection, new: NewArtifact, event: EventFor[ContextArtifact] | None
) -> tuple[ContextArtifact, Event | None]:
    row = await writes.insert(
        conn, "initiative_artifacts", {**records.values_of(new), "created_at": now_iso()}
    )
    return await writes.recorded(conn, records.artifact(row), event)
