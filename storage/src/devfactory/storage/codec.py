"""The one codec for JSON columns and rows: msgspec in, msgspec out."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def dump(value: Any) -> str:
    """Encode a Struct, list or dict for a JSON column."""
    return _encoder.encode(value).decode()


def load(text: str | None, type_: type[T]) -> T:
    """Decode a JSON column into ``type_`` (a Struct, ``list[str]``, ``dict[str, Any]``...)."""
    return msgspec.json.decode(text or "null", type=type_)


def row_to(type_: type[T], row: Any, **overrides: Any) -> T:
    """Build a protocol Struct from a database row.

    Columns are matched to the Struct's Python field names; ``overrides`` replace or add values
    (decoded JSON columns, renamed columns). SQLite's 0/1 become bools where a field is a bool.
    """
    values = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite rows need keys()
    values.update(overrides)
    return msgspec.convert(SimpleNamespace(**values), type_, from_attributes=True, strict=False)
