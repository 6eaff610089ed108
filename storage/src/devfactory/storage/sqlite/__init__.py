"""The SQLite adapter of the storage ports: one file per workspace, WAL, numbered migrations,
FTS5 for lexical search and sqlite-vec for vectors.

Only ``devfactory.storage.factory`` (and tests of this adapter) import it; the server speaks
to the ports.
"""

from __future__ import annotations

from .buffers import SqliteBufferIndex, SqliteIndexWriter
from .database import Database
from .store import SqliteStore

__all__ = ["Database", "SqliteBufferIndex", "SqliteIndexWriter", "SqliteStore"]
