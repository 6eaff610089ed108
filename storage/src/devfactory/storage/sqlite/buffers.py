"""The index's synchronous faces: the buffer index (unsaved editor buffers) and the writer of
index worker processes. Both run the store's own schema and SQL (``index_sql``)."""

from __future__ import annotations

import sqlite3

import msgspec
import sqlean

from ..clock import now_iso
from ..codec import dump
from ..ports.index import Bm25Weights
from ..ports.rows import ChunkRow, FileUpdate, IndexBatch
from . import index_sql
from .database import (
    WRITER_AUTOCHECKPOINT_PAGES,
    connect,
    in_transaction,
    load_migrations,
    migrate,
    select,
    storage_full,
)


class SqliteBufferIndex:
    """Buffers in a private in-memory database migrated like the store's, so their chunks are
    stored, matched and BM25-ranked exactly as the store's are. Ids go out negated: the
    in-memory ids never collide with the store's. The database is made at the first buffer
    (it takes some milliseconds), not when the daemon starts."""

    def __init__(self) -> None:
        self._conn: sqlite3.Connection | None = None
        self._project_id = 0
        self._paths: set[str] = set()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = connect(":memory:")
            migrate(conn, load_migrations(), ":memory:")
            stamp = now_iso()
            self._project_id = int(
                conn.execute(
                    "INSERT INTO projects (name, slug, root_path, created_at, updated_at)"
                    " VALUES ('buffers', 'buffers', '', ?, ?)",
                    (stamp, stamp),
                ).lastrowid
                or 0
            )
            self._conn = conn
        return self._conn

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self._paths)

    def put(self, update: FileUpdate) -> list[int]:
        replaced = self.drop(update.path)
        batch = IndexBatch([update])
        in_transaction(self._connection(), index_sql.apply_batch, self._project_id, batch)
        self._paths.add(update.path)
        return replaced

    def drop(self, path: str) -> list[int]:
        if path not in self._paths:
            return []
        conn = self._connection()
        rows = select(conn, "SELECT id FROM rag_chunks WHERE path = ?", (path,))
        batch = IndexBatch((), removed=[path])
        in_transaction(conn, index_sql.apply_batch, self._project_id, batch)
        self._paths.discard(path)
        return [-row[0] for row in rows]

    def lexical(
        self, match: str, limit: int, weights: Bm25Weights, paths: frozenset[str] | None
    ) -> list[ChunkRow]:
        if not self._paths:
            return []
        conn = self._connection()
        file_ids = None
        if paths is not None:
            found = select(
                conn,
                "SELECT id FROM rag_files WHERE path IN (SELECT value FROM json_each(?))",
                (dump(sorted(paths)),),
            )
            file_ids = [row[0] for row in found]
        rows = index_sql.lexical(
            conn, self._project_id, match, limit, file_ids, None, weights=weights
        )
        return _outward(rows)

    def chunks(self) -> list[ChunkRow]:
        if not self._paths:
            return []
        return _outward(index_sql.all_chunks(self._connection(), self._project_id))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _outward(rows: list[ChunkRow]) -> list[ChunkRow]:
    return [msgspec.structs.replace(row, id=-row.id) for row in rows]


class SqliteIndexWriter:
    """A connection of its own for a worker process that writes index batches itself.

    Like the daemon's writer it syncs at checkpoints, not at every commit (WAL, NORMAL), and
    leaves checkpoints to the daemon's checkpointer; it gets a larger page cache for the FTS5
    segment merges of a big pass.
    """

    def __init__(self, path: str, project_id: int) -> None:
        self._path = path
        self._project_id = project_id
        self._conn = connect(path)
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}")
        self._conn.execute("PRAGMA cache_size = -65536")

    def apply(self, batch: IndexBatch) -> int:
        try:
            return in_transaction(self._conn, index_sql.apply_batch, self._project_id, batch)
        except (sqlean.Error, OSError) as exc:
            if (full := storage_full(exc, self._path)) is None:
                raise
            raise full from exc

    def close(self) -> None:
        self._conn.close()
