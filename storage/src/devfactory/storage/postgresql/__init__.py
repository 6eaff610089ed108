"""The PostgreSQL adapter of the storage ports, for a team sharing one database: psycopg 3
async connections from a pool, numbered migrations, full text search over identifier-split
words, pg_trgm for names, and pgvector's distance where the server has the extension.

Only ``devfactory.storage.factory`` (and tests of this adapter) import it, when a store is
opened at a ``postgresql://`` URL: psycopg is an optional dependency
(``devfactory-storage[postgresql]``).
"""

from __future__ import annotations

from .buffers import PostgresBufferIndex, PostgresIndexWriter
from .database import Database
from .store import PostgresStore

__all__ = ["Database", "PostgresBufferIndex", "PostgresIndexWriter", "PostgresStore"]
