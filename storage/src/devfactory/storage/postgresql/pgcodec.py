"""What PostgreSQL's types need on top of the one codec (``..codec``).

JSON columns (jsonb) come back as text and are decoded by the codec, like SQLite's. PostgreSQL
text and jsonb cannot hold NUL, which command output and file contents may: NUL becomes
U+FFFD, the replacement character, rather than failing the write (and the event or change
it carries).
"""

from __future__ import annotations

import re
from typing import Any

from psycopg.abc import Buffer
from psycopg.adapt import AdaptersMap
from psycopg.types.string import StrDumperUnknown, TextLoader

from .. import codec

_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
"""``\\u0000`` in JSON text, not preceded by an escaped backslash."""


def dump(value: Any) -> str:
    """``value`` as JSON text for a jsonb column (NULs replaced)."""
    return _ESCAPED_NUL.sub(r"\1\\ufffd", codec.dump(value))


class _NulFreeStrDumper(StrDumperUnknown):
    """Python ``str`` as text of no declared type (as psycopg's default: the server casts it
    to the column's type), NUL replaced."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", "\ufffd"))


def configure(conn: Any) -> None:
    """Set a connection's (or a cursor's) adapters: jsonb as text, NUL-free strings."""
    adapters: AdaptersMap = conn.adapters
    adapters.register_loader("jsonb", TextLoader)
    adapters.register_loader("json", TextLoader)
    adapters.register_dumper(str, _NulFreeStrDumper)
