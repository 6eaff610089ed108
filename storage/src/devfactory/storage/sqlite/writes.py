"""SQLite's row writes shared by the factory's repositories: insert or compare-and-set update a row
from named values, and record the write's event in the same transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, TypeVar

import msgspec

from devfactory.protocol.events import Event

from ..clock import now_iso
from ..codec import dump
from ..ports.rows import NewEvent
from .events import insert_events

R = TypeVar("R")


def column(value: Any) -> Any:
    """A Python value as SQLite stores it: enums by value, Structs, lists and dicts as JSON."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (msgspec.Struct, list, dict)):
        return dump(value)
    return value


def insert(conn: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> int:
    names = ", ".join(values)
    marks = ",".join("?" * len(values))
    cursor = conn.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks})", [column(v) for v in values.values()]
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def update(
    conn: sqlite3.Connection,
    table: str,
    row_id: int,
    fields: Mapping[str, Any],
    expect_status: Enum | None = None,
) -> bool:
    """Set ``fields``; with ``expect_status`` only if the row still has that status."""
    if not fields:
        return conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone() is not None
    assignments = ", ".join(f"{name} = ?" for name in fields)
    params = [column(v) for v in fields.values()] + [row_id]
    sql = f"UPDATE {table} SET {assignments} WHERE id = ?"
    if expect_status is not None:
        sql += " AND status = ?"
        params.append(expect_status.value)
    return conn.execute(sql, params).rowcount > 0


def recorded(
    conn: sqlite3.Connection, record: R, event_for: Callable[[R], NewEvent] | None
) -> tuple[R, Event | None]:
    """The record and the event that records it (inserted in the caller's transaction)."""
    if event_for is None:
        return record, None
    return record, insert_events(conn, [event_for(record)])[0]


def update_recorded(
    conn: sqlite3.Connection,
    table: str,
    read: Callable[[sqlite3.Connection, int], R],
    row_id: int,
    expect_status: Enum | None,
    fields: Mapping[str, Any],
    event: Callable[[R], NewEvent] | None,
    touch: bool = True,
) -> tuple[R, Event | None] | None:
    """Compare-and-set ``fields`` (stamping ``updated_at`` when ``touch``), then the updated
    record and its event; None when the row is gone or no longer in ``expect_status``."""
    values = {**fields, "updated_at": now_iso()} if touch else dict(fields)
    if not update(conn, table, row_id, values, expect_status):
        return None
    return recorded(conn, read(conn, row_id), event)
