"""The ``initiatives``, ``phases`` and ``phase_comments`` tables: an initiative and its plan's
stages. Writes that change what clients see take the event that records them, written in the
same transaction (``writes.recorded``)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Unpack

from devfactory.protocol.enums import DiffSide, InitiativeStatus, PhaseStatus
from devfactory.protocol.events import Event
from devfactory.protocol.initiatives import Initiative, Phase, PhaseComment

from .. import records
from ..clock import now_iso
from ..codec import row_to
from ..ports.factory_rows import EventFor, InitiativeFields, NewInitiative, NewPhase, PhaseFields
from . import writes
from .database import Connection, Database


class PostgresInitiativeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- initiatives ---------------------------------------------------------------------------

    async def create(
        self, new: NewInitiative, event: EventFor[Initiative] | None = None
    ) -> tuple[Initiative, Event | None]:
        return await self.db.write(_create_initiative, new, event)

    async def get(self, initiative_id: int) -> Initiative | None:
        row = await self.db.fetchone("SELECT * FROM initiatives WHERE id = %s", (initiative_id,))
        return None if row is None else records.initiative(row)

    async def list(
        self,
        project_id: int,
        statuses: Iterable[InitiativeStatus] | None = None,
        limit: int = 50,
    ) -> builtins.list[Initiative]:
        wanted = [s.value for s in statuses or ()]
        rows = await self.db.fetchall(
            "SELECT * FROM initiatives WHERE project_id = %s"
            " AND (cardinality(%s::text[]) = 0 OR status = ANY(%s::text[]))"
            " ORDER BY id DESC LIMIT %s",
            (project_id, wanted, wanted, limit),
        )
        return [records.initiative(row) for row in rows]

    async def update(
        self,
        initiative_id: int,
        *,
        expect_status: InitiativeStatus | None = None,
        event: EventFor[Initiative] | None = None,
        **fields: Unpack[InitiativeFields],
    ) -> tuple[Initiative, Event | None] | None:
        return await self.db.write(
            writes.update_recorded,
            "initiatives",
            records.initiative,
            initiative_id,
            expect_status,
            fields,
            event,
        )

    # -- phases --------------------------------------------------------------------------------

    async def create_phase(
        self, new: NewPhase, event: EventFor[Phase] | None = None
    ) -> tuple[Phase, Event | None]:
        return await self.db.write(insert_phase, new, event)

    async def get_phase(self, phase_id: int) -> Phase | None:
        row = await self.db.fetchone("SELECT * FROM phases WHERE id = %s", (phase_id,))
        return None if row is None else records.phase(row)

    async def phases(self, initiative_id: int) -> builtins.list[Phase]:
        rows = await self.db.fetchall(
            "SELECT * FROM phases WHERE initiative_id = %s ORDER BY position, id",
            (initiative_id,),
        )
        return [records.phase(row) for row in rows]

    async def update_phase(
        self,
        phase_id: int,
        *,
        expect_status: PhaseStatus | None = None,
        event: EventFor[Phase] | None = None,
        **fields: Unpack[PhaseFields],
    ) -> tuple[Phase, Event | None] | None:
        return await self.db.write(
            writes.update_recorded,
            "phases",
            records.phase,
            phase_id,
            expect_status,
            fields,
            event,
        )

    # -- phase review comments -----------------------------------------------------------------

    async def add_comment(
        self, phase_id: int, path: str, line: int, side: DiffSide, body: str
    ) -> PhaseComment:
        row = await self.db.returning(
            "INSERT INTO phase_comments (phase_id, path, line, side, body, created_at)"
            " VALUES (%s,%s,%s,%s,%s,%s) RETURNING *",
            (phase_id, path, line, side.value, body, now_iso()),
        )
        return row_to(PhaseComment, row)

    async def get_comment(self, comment_id: int) -> PhaseComment | None:
        row = await self.db.fetchone("SELECT * FROM phase_comments WHERE id = %s", (comment_id,))
        return None if row is None else row_to(PhaseComment, row)

    async def comments(
        self, phase_id: int, include_resolved: bool = False
    ) -> builtins.list[PhaseComment]:
        rows = await self.db.fetchall(
            "SELECT * FROM phase_comments WHERE phase_id = %s AND (%s OR NOT resolved)"
            " ORDER BY path, line, id",
            (phase_id, include_resolved),
        )
        return [row_to(PhaseComment, row) for row in rows]

    async def resolve_comments(self, comment_ids: builtins.list[int]) -> None:
        if comment_ids:
            await self.db.execute(
                "UPDATE phase_comments SET resolved = true WHERE id = ANY(%s)", (comment_ids,)
            )


# -- functions run inside one transaction ---------------------------------------------------------


async def _create_initiative(
    conn: Connection, new: NewInitiative, event: EventFor[Initiative] | None
) -> tuple[Initiative, Event | None]:
    now = now_iso()
    row = await writes.insert(
        conn, "initiatives", {**records.values_of(new), "created_at": now, "updated_at": now}
    )
    return await writes.recorded(conn, records.initiative(row), event)


async def insert_phase(
    conn: Connection, new: NewPhase, event: EventFor[Phase] | None
) -> tuple[Phase, Event | None]:
    now = now_iso()
    # The initiative's row, locked: two phases appended at once get different positions.
    await conn.execute("SELECT 1 FROM initiatives WHERE id = %s FOR UPDATE", (new.initiative_id,))
    last = await (
        await conn.execute(
            "SELECT max(position) AS last FROM phases WHERE initiative_id = %s",
            (new.initiative_id,),
        )
    ).fetchone()
    position = 0 if last is None or last["last"] is None else last["last"] + 1
    row = await writes.insert(
        conn,
        "phases",
        {**records.values_of(new), "position": position, "created_at": now, "updated_at": now},
    )
    return await writes.recorded(conn, records.phase(row), event)
