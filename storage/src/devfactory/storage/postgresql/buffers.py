"""The index's synchronous faces: the buffer index (unsaved editor buffers) and the writer of
index worker processes. Both run the store's own SQL (``index_sql``) on a connection of their
own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import psycopg
from psycopg.rows import DictRow, dict_row

from ..ports.index import Bm25Weights
from ..ports.rows import ChunkRow, FileUpdate, IndexBatch
from . import index_sql
from .database import storage_full
from .index_sql import Statement, chunk_rows
from .pgcodec import configure

SyncConnection = psycopg.Connection[DictRow]

_BUFFER_TABLES = (
    "CREATE TEMP TABLE rag_files (LIKE rag_files INCLUDING ALL)",
    "CREATE TEMP TABLE rag_chunks (LIKE rag_chunks INCLUDING ALL)",
    "ALTER TABLE pg_temp.rag_chunks ADD FOREIGN KEY (file_id)"
    " REFERENCES pg_temp.rag_files (id) ON DELETE CASCADE",
)
"""Temporary twins of the index tables (same columns, indexes and tsvector), which shadow
the store's on the buffer index's connection: the store's SQL then runs on them unchanged."""
BUFFERS_PROJECT = 0


def connect(url: str) -> SyncConnection:
    conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    configure(conn)
    return conn


def run_all(conn: SyncConnection, statements: Sequence[Statement]) -> None:
    """The statements in one transaction."""
    with conn.transaction():
        for sql, params in statements:
            conn.execute(sql, params)


def select(conn: SyncConnection, sql: str, params: Any) -> list[DictRow]:
    return conn.execute(sql, params).fetchall()


class PostgresBufferIndex:
    """Buffers in temporary tables on a connection of their own, stored, matched and ranked
    by the store's SQL, so their scores merge with the store's. Ids go out negated: they
    never collide with the store's. The connection is made at the first buffer."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: SyncConnection | None = None
        self._paths: set[str] = set()

    def _connection(self) -> SyncConnection:
        if self._conn is None:
            conn = connect(self._url)
            run_all(conn, [(sql, ()) for sql in _BUFFER_TABLES])
            self._conn = conn
        return self._conn

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self._paths)

    def put(self, update: FileUpdate) -> list[int]:
        replaced = self.drop(update.path)
        statements, _ = index_sql.apply_batch(BUFFERS_PROJECT, IndexBatch([update]))
        run_all(self._connection(), statements)
        self._paths.add(update.path)
        return replaced

    def drop(self, path: str) -> list[int]:
        if path not in self._paths:
            return []
        conn = self._connection()
        rows = select(conn, "SELECT id FROM rag_chunks WHERE path = %s", (path,))
        statements, _ = index_sql.apply_batch(BUFFERS_PROJECT, IndexBatch((), removed=[path]))
        run_all(conn, statements)
        self._paths.discard(path)
        return [-row["id"] for row in rows]

    def lexical(
        self, match: str, limit: int, weights: Bm25Weights, paths: frozenset[str] | None
    ) -> list[ChunkRow]:
        if not self._paths:
            return []
        conn = self._connection()
        file_ids = None
        if paths is not None:
            found = select(conn, "SELECT id FROM rag_files WHERE path = ANY(%s)", (sorted(paths),))
            file_ids = [row["id"] for row in found]
        statement = index_sql.lexical(BUFFERS_PROJECT, match, limit, weights, file_ids, None)
        if statement is None:
            return []
        return _outward(chunk_rows(select(conn, *statement)))

    def chunks(self) -> list[ChunkRow]:
        if not self._paths:
            return []
        return _outward(chunk_rows(select(self._connection(), *index_sql.all_chunks(0))))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _outward(rows: list[ChunkRow]) -> list[ChunkRow]:
    return [msgspec.structs.replace(row, id=-row.id) for row in rows]


class PostgresIndexWriter:
    """A connection of its own for a worker process that writes index batches itself."""

    def __init__(self, url: str, project_id: int) -> None:
        self._url = url
        self._project_id = project_id
        self._conn = connect(url)

    def apply(self, batch: IndexBatch) -> int:
        statements, written = index_sql.apply_batch(self._project_id, batch)
        try:
            run_all(self._conn, statements)
        except psycopg.Error as exc:
            if (full := storage_full(exc, self._url)) is None:
                raise
            raise full from exc
        return written

    def close(self) -> None:
        self._conn.close()
