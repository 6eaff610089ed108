"""The ``initiatives``, ``phases`` and ``phase_comments`` tables: an initiative and its plan's
stages. Writes that change what clients see take the event that records them, written in the
same transaction (``writes.recorded``)."""

from __future__ import annotations

import builtins
import sqlite3
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
from .database import Database


def _read_initiative(conn: sqlite3.Connection, initiative_id: int) -> Initiative:
    return records.initiative(
        conn.execute("SELECT * FROM initiatives WHERE id = ?", (initiative_id,)).fetchone()
    )


def _read_phase(conn: sqlite3.Connection, phase_id: int) -> Phase:
    return records.phase(conn.execute("SELECT * FROM phases WHERE id = ?", (phase_id,)).fetchone())


class SqliteInitiativeRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- initiatives ---------------------------------------------------------------------------

    async def create(
        self, new: NewInitiative, event: EventFor[Initiative] | None = None
    ) -> tuple[Initiative, Event | None]:
        return await self.db.write(_create_initiative, new, event)

    async def get(self, initiative_id: int) -> Initiative | None:
        row = await self.db.fetchone("SELECT * FROM initiatives WHERE id = ?", (initiative_id,))
        return None if row is None else records.initiative(row)

    async def list(
        self,
        project_id: int,
        statuses: Iterable[InitiativeStatus] | None = None,
        limit: int = 50,
    ) -> builtins.list[Initiative]:
        wanted = [s.value for s in statuses or ()]
        sql = "SELECT * FROM initiatives WHERE project_id = ?"
        if wanted:
            sql += f" AND status IN ({','.join('?' * len(wanted))})"
        rows = await self.db.fetchall(
            sql + " ORDER BY id DESC LIMIT ?", (project_id, *wanted, limit)
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
            _read_initiative,
            initiative_id,
            expect_status,
            fields,
            event,
        )

    # -- phases --------------------------------------------------------------------------------

    async def create_phase(
        self, new: NewPhase, event: EventFor[Phase] | None = None
    ) -> tuple[Phase, Event | None]:
        return await self.db.write(_create_phase, new, event)

    async def get_phase(self, phase_id: int) -> Phase | None:
        row = await self.db.fetchone("SELECT * FROM phases WHERE id = ?", (phase_id,))
        return None if row is None else records.phase(row)

    async def phases(self, initiative_id: int) -> builtins.list[Phase]:
        rows = await self.db.fetchall(
            "SELECT * FROM phases WHERE initiative_id = ? ORDER BY position, id",
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
            writes.update_recorded, "phases", _read_phase, phase_id, expect_status, fields, event
        )

    # -- phase review comments -----------------------------------------------------------------

    async def add_comment(
        self, phase_id: int, path: str, line: int, side: DiffSide, body: str
    ) -> PhaseComment:
        comment_id = await self.db.execute(
            "INSERT INTO phase_comments (phase_id, path, line, side, body, created_at)"
            " VALUES (?,?,?,?,?,?)",
            (phase_id, path, line, side.value, body, now_iso()),
        )
        comment = await self.get_comment(comment_id)
        assert comment is not None
        return comment

    async def get_comment(self, comment_id: int) -> PhaseComment | None:
        row = await self.db.fetchone("SELECT * FROM phase_comments WHERE id = ?", (comment_id,))
        return None if row is None else row_to(PhaseComment, row)

    async def comments(
        self, phase_id: int, include_resolved: bool = False
    ) -> builtins.list[PhaseComment]:
        sql = "SELECT * FROM phase_comments WHERE phase_id = ?"
        if not include_resolved:
            sql += " AND resolved = 0"
        rows = await self.db.fetchall(sql + " ORDER BY path, line, id", (phase_id,))
        return [row_to(PhaseComment, row) for row in rows]

    async def resolve_comments(self, comment_ids: builtins.list[int]) -> None:
        if comment_ids:
            marks = ",".join("?" * len(comment_ids))
            await self.db.execute(
                f"UPDATE phase_comments SET resolved = 1 WHERE id IN ({marks})", comment_ids
            )


# -- functions run on the writer thread, inside one transaction ---------------------------------


def _create_initiative(
    conn: sqlite3.Connection, new: NewInitiative, event: EventFor[Initiative] | None
) -> tuple[Initiative, Event | None]:
    now = now_iso()
    values = records.values_of(new)
    initiative_id = writes.insert(
        conn, "initiatives", {**values, "created_at": now, "updated_at": now}
    )
    return writes.recorded(conn, _read_initiative(conn, initiative_id), event)


def _create_phase(
    conn: sqlite3.Connection, new: NewPhase, event: EventFor[Phase] | None
) -> tuple[Phase, Event | None]:
    now = now_iso()
    last = conn.execute(
        "SELECT max(position) FROM phases WHERE initiative_id = ?", (new.initiative_id,)
    ).fetchone()[0]
    values = records.values_of(new)
    phase_id = writes.insert(
        conn,
        "phases",
        {
            **values,
            "position": 0 if last is None else last + 1,
            "created_at": now,
            "updated_at": now,
        },
    )
    return writes.recorded(conn, _read_phase(conn, phase_id), event)
