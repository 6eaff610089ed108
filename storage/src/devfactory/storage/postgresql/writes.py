"""PostgreSQL's row writes shared by the factory's repositories: insert or compare-and-set
update a row from named values (``RETURNING *``, so the written row comes back in the same
round trip), and record the write's event in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

import msgspec
from psycopg.rows import DictRow

from devfactory.protocol.events import Event

from ..clock import now_iso
from ..ports.rows import NewEvent
from .database import Connection
from .events import insert_events
from .pgcodec import dump

R = TypeVar("R")


def column(value: Any) -> Any:
    """A Python value as PostgreSQL takes it: enums by value, Structs, lists and dicts as JSON
    text (for jsonb); booleans stay booleans."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (msgspec.Struct, list, dict)):
        return dump(value)
    return value


async def insert(conn: Connection, table: str, values: Mapping[str, Any]) -> DictRow:
    names = ", ".join(values)
    marks = ",".join(["%s"] * len(values))
    cursor = await conn.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING *",
        [column(v) for v in values.values()],
    )
    row = await cursor.fetchone()
    assert row is not None
    return row


async def update(
    conn: Connection,
    table: str,
    row_id: int,
    fields: Mapping[str, Any],
    expect_status: Enum | None = None,
) -> DictRow | None:
    """Set ``fields``; with ``expect_status`` only if the row still has that status. The row as
    written, or None when it is gone or not in ``expect_status``."""
    where = " WHERE id = %s" + ("" if expect_status is None else " AND status = %s")
    keys = [row_id] + ([] if expect_status is None else [expect_status.value])
    if not fields:
        sql = f"SELECT * FROM {table}{where}"
    else:
        assignments = ", ".join(f"{name} = %s" for name in fields)
        sql = f"UPDATE {table} SET {assignments}{where} RETURNING *"
    params = [column(v) for v in fields.values()] + keys
    return await (await conn.execute(sql, params)).fetchone()


async def recorded(
    conn: Connection, record: R, event_for: Callable[[R], NewEvent] | None
) -> tuple[R, Event | None]:
    """The record and the event that records it (inserted in the caller's transaction)."""
    if event_for is None:
        return record, None
    return record, (await insert_events(conn, [event_for(record)]))[0]


async def update_recorded(
    conn: Connection,
    table: str,
    to_record: Callable[[DictRow], R],
    row_id: int,
    expect_status: Enum | None,
    fields: Mapping[str, Any],
    event: Callable[[R], NewEvent] | None,
    touch: bool = True,
) -> tuple[R, Event | None] | None:
    """Compare-and-set ``fields`` (stamping ``updated_at`` when ``touch``), then the updated
    record and its event; None when the row is gone or no longer in ``expect_status``."""
    values = {**fields, "updated_at": now_iso()} if touch else dict(fields)
    row = await update(conn, table, row_id, values, expect_status)
    return None if row is None else await recorded(conn, to_record(row), event)
