"""The workspace index tables: ``rag_files``, ``rag_chunks``, ``rag_chunks_fts``,
``rag_chunk_vectors`` and ``rag_meta``.

Bulk writes (a batch of re-parsed files, a batch of vectors) run as one function on the writer
thread through :meth:`Database.write`, so indexing costs one thread hop per batch, not one
per row. Reads are small async queries on the reader connection.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from typing import NamedTuple

from ..clock import now_iso
from ..codec import dump
from ..database import Database, _connect

_VECTOR_TABLE = "rag_chunk_vectors"


class FileState(NamedTuple):
    """What the index knows about a file: enough to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str
    skip_reason: str | None


class NewChunk(NamedTuple):
    """A chunk ready to be stored; ``symbol_terms`` and ``subtokens`` feed only the lexical
    index (the symbol's words and the parts of camelCase identifiers in the content)."""

    symbol: str | None
    name: str | None
    kind: str | None
    start_line: int
    end_line: int
    content: str
    content_hash: str
    symbol_terms: str
    subtokens: str


class FileUpdate(NamedTuple):
    """A file to (re)write in the index with its chunks (none for a skipped file)."""

    path: str
    language: str | None
    source_type: str
    size: int
    mtime_ns: int
    content_hash: str
    skip_reason: str | None
    chunks: Sequence[NewChunk]


class IndexBatch(NamedTuple):
    """One transaction of an indexing pass."""

    updates: Sequence[FileUpdate]
    touched: Sequence[tuple[str, int, int]] = ()
    """(path, size, mtime_ns) of files whose content hash did not change."""
    removed: Sequence[str] = ()
    """Paths to forget (their chunks, text and vectors go with them)."""


class ChunkRow(NamedTuple):
    """A stored chunk with the score of the query that found it (lower is better)."""

    id: int
    path: str
    language: str | None
    symbol: str | None
    name: str | None
    kind: str | None
    start_line: int
    end_line: int
    content: str
    source_type: str
    score: float


class IndexCounts(NamedTuple):
    files: int
    skipped_files: int
    chunks: int
    embedded_chunks: int


_CHUNK_COLUMNS = (
    "c.id, c.path, c.language, c.symbol, c.name, c.kind, c.start_line, c.end_line, c.content,"
    " c.source_type"
)


def pack_vector(vector: Sequence[float]) -> bytes:
    """A float32 blob, the format ``vec0`` stores."""
    return struct.pack(f"{len(vector)}f", *vector)


def _filter_sql(file_ids: Sequence[int] | None, languages: Sequence[str] | None) -> str:
    sql = ""
    if file_ids is not None:
        sql += " AND c.file_id IN (SELECT value FROM json_each(?))"
    if languages is not None:
        sql += " AND c.language IN (SELECT value FROM json_each(?))"
    return sql


def _filter_args(file_ids: Sequence[int] | None, languages: Sequence[str] | None) -> list[str]:
    args = []
    if file_ids is not None:
        args.append(dump(list(file_ids)))
    if languages is not None:
        args.append(dump(list(languages)))
    return args


class RagRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- files ---------------------------------------------------------------------------------

    async def file_states(
        self, project_id: int, paths: Sequence[str] | None = None
    ) -> dict[str, FileState]:
        """Path -> state of every indexed file (or of just ``paths``)."""
        sql = (
            "SELECT id, path, size, mtime_ns, content_hash, skip_reason FROM rag_files"
            " WHERE project_id = ?"
        )
        args: tuple[object, ...] = (project_id,)
        if paths is not None:
            sql += " AND path IN (SELECT value FROM json_each(?))"
            args += (dump(list(paths)),)
        rows = await self.db.fetchall(sql, args)
        return {row["path"]: FileState(*row) for row in rows}

    async def file_ids(self, project_id: int) -> dict[str, int]:
        """Path -> id of every indexed file (for path-glob filters)."""
        rows = await self.db.fetchall(
            "SELECT path, id FROM rag_files WHERE project_id = ? AND skip_reason IS NULL",
            (project_id,),
        )
        return {row[0]: row[1] for row in rows}

    async def apply(self, project_id: int, batch: IndexBatch) -> int:
        """Write a batch in one transaction on the writer thread; returns chunks written."""
        if not (batch.updates or batch.touched or batch.removed):
            return 0
        return int(await self.db.write(apply_batch, project_id, batch))

    async def clear(self, project_id: int) -> None:
        await self.db.execute("DELETE FROM rag_files WHERE project_id = ?", (project_id,))

    # -- state ---------------------------------------------------------------------------------

    async def counts(self, project_id: int) -> IndexCounts:
        row = await self.db.fetchone(
            "SELECT (SELECT count(*) FROM rag_files WHERE project_id = ?1 AND skip_reason IS NULL),"
            " (SELECT count(*) FROM rag_files WHERE project_id = ?1 AND skip_reason IS NOT NULL),"
            " (SELECT count(*) FROM rag_chunks WHERE project_id = ?1),"
            " (SELECT count(*) FROM rag_chunks WHERE project_id = ?1 AND embedded = 1)",
            (project_id,),
        )
        assert row is not None
        return IndexCounts(*row)

    async def get_meta(self, project_id: int, key: str) -> str | None:
        value = await self.db.scalar(
            "SELECT value FROM rag_meta WHERE project_id = ? AND key = ?", (project_id, key)
        )
        return None if value is None else str(value)

    async def set_meta(self, project_id: int, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO rag_meta (project_id, key, value) VALUES (?,?,?)"
            " ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value",
            (project_id, key, value),
        )

    # -- vectors -------------------------------------------------------------------------------

    async def reset_vectors(self, project_id: int, dimensions: int) -> None:
        """Drop every vector (another embedder): recreate the table and mark all unembedded."""
        await self.db.write(_reset_vectors, project_id, dimensions)

    async def chunks_to_embed(self, project_id: int, limit: int) -> list[tuple[int, str]]:
        """(id, text to embed) of chunks without a vector yet."""
        rows = await self.db.fetchall(
            "SELECT id, coalesce(symbol || char(10), '') || content FROM rag_chunks"
            " WHERE project_id = ? AND embedded = 0 ORDER BY id LIMIT ?",
            (project_id, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def store_vectors(self, vectors: Sequence[tuple[int, bytes]]) -> None:
        """Store packed vectors of chunks (skipping any deleted meanwhile)."""
        if vectors:
            await self.db.write(_store_vectors, vectors)

    # -- search --------------------------------------------------------------------------------

    async def lexical(
        self,
        project_id: int,
        match: str,
        limit: int,
        *,
        weights: tuple[float, float, float, float],
        file_ids: Sequence[int] | None = None,
        languages: Sequence[str] | None = None,
    ) -> list[ChunkRow]:
        """Chunks matching an FTS5 expression, best BM25 first (score = bm25, negative)."""
        w = ", ".join(str(float(x)) for x in weights)
        if file_ids is None and languages is None:
            # Rank and cut inside FTS5, then read only the winners' rows (not every match's).
            rows = await self.db.fetchall(
                f"SELECT {_CHUNK_COLUMNS}, f.score FROM ("
                f" SELECT rowid, bm25(rag_chunks_fts, {w}) AS score FROM rag_chunks_fts"
                "  WHERE rag_chunks_fts MATCH ? ORDER BY score LIMIT ?) AS f"
                " JOIN rag_chunks c ON c.id = f.rowid WHERE c.project_id = ?"
                " ORDER BY f.score",
                (match, limit, project_id),
            )
            return [ChunkRow(*row) for row in rows]
        rows = await self.db.fetchall(
            f"SELECT {_CHUNK_COLUMNS}, f.score FROM ("
            f" SELECT rowid, bm25(rag_chunks_fts, {w}) AS score FROM rag_chunks_fts"
            "  WHERE rag_chunks_fts MATCH ?) AS f"
            " JOIN rag_chunks c ON c.id = f.rowid"
            f" WHERE c.project_id = ?{_filter_sql(file_ids, languages)}"
            " ORDER BY f.score LIMIT ?",
            (match, project_id, *_filter_args(file_ids, languages), limit),
        )
        return [ChunkRow(*row) for row in rows]

    async def semantic(
        self,
        project_id: int,
        vector: bytes,
        limit: int,
        *,
        file_ids: Sequence[int] | None = None,
        languages: Sequence[str] | None = None,
    ) -> list[ChunkRow]:
        """Nearest chunks by cosine distance among those passing the filters (score =
        distance, lower is better): sqlite-vec computes the distance of every candidate, so a
        narrow filter never starves the result."""
        rows = await self.db.fetchall(
            f"SELECT {_CHUNK_COLUMNS}, vec_distance_cosine(v.embedding, ?) AS distance"
            f" FROM rag_chunks c JOIN {_VECTOR_TABLE} v ON v.rowid = c.id"
            f" WHERE c.project_id = ?{_filter_sql(file_ids, languages)}"
            " ORDER BY distance LIMIT ?",
            (vector, project_id, *_filter_args(file_ids, languages), limit),
        )
        return [ChunkRow(*row) for row in rows]

    async def all_vectors(self, project_id: int) -> list[tuple[int, bytes]]:
        """(chunk id, float32 blob) of every embedded chunk."""
        rows = await self.db.fetchall(
            f"SELECT v.rowid, v.embedding FROM {_VECTOR_TABLE} v"
            " JOIN rag_chunks c ON c.id = v.rowid WHERE c.project_id = ?",
            (project_id,),
        )
        return [(row[0], row[1]) for row in rows]

    async def chunks_by_id(self, project_id: int, ids: Sequence[int]) -> dict[int, ChunkRow]:
        """The chunks with these ids that still exist (score 0)."""
        rows = await self.db.fetchall(
            f"SELECT {_CHUNK_COLUMNS}, 0.0 FROM rag_chunks c"
            " WHERE c.id IN (SELECT value FROM json_each(?)) AND c.project_id = ?",
            (dump(list(ids)), project_id),
        )
        return {row[0]: ChunkRow(*row) for row in rows}

    async def symbols(self, project_id: int, query: str, limit: int) -> list[ChunkRow]:
        """Definitions whose name contains ``query`` (case-insensitive): exact, prefix, rest."""
        rows = await self.db.fetchall(
            f"SELECT {_CHUNK_COLUMNS}, CASE WHEN c.name = ?2 COLLATE NOCASE THEN 0"
            " WHEN c.name LIKE ?2 || '%' THEN 1 ELSE 2 END AS score"
            " FROM rag_chunks c WHERE c.project_id = ?1 AND c.name IS NOT NULL"
            " AND c.name LIKE '%' || ?2 || '%' AND c.start_line = ("
            "  SELECT min(d.start_line) FROM rag_chunks d"
            "  WHERE d.file_id = c.file_id AND d.symbol = c.symbol)"
            " ORDER BY score, length(c.name), c.path, c.start_line LIMIT ?3",
            (project_id, query, limit),
        )
        return [ChunkRow(*row) for row in rows]

    async def all_chunks(self, project_id: int) -> list[ChunkRow]:
        """Every chunk, by path and line (for the project map's reference graph)."""
        rows = await self.db.fetchall(
            f"SELECT {_CHUNK_COLUMNS}, 0.0 FROM rag_chunks c WHERE c.project_id = ?"
            " ORDER BY c.path, c.start_line",
            (project_id,),
        )
        return [ChunkRow(*row) for row in rows]


# -- functions run on the writer thread ----------------------------------------------------------


def open_connection(path: str) -> sqlite3.Connection:
    """A connection of its own for a worker process that writes index batches itself (its
    parsing would otherwise have to be shipped back to the daemon and written there).

    Like the daemon's writer it syncs at checkpoints, not at every commit (WAL, NORMAL), and
    it gets a larger page cache for the FTS5 segment merges of a big pass.
    """
    conn = _connect(path)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")
    return conn


def apply_batch(conn: sqlite3.Connection, project_id: int, batch: IndexBatch) -> int:
    """Write one batch (inside the caller's transaction); returns the number of chunks written."""
    written = _write_files(conn, project_id, batch.updates, now_iso())
    conn.executemany(
        "UPDATE rag_files SET size = ?, mtime_ns = ? WHERE project_id = ? AND path = ?",
        [(size, mtime, project_id, path) for path, size, mtime in batch.touched],
    )
    conn.executemany(
        "DELETE FROM rag_files WHERE project_id = ? AND path = ?",
        [(project_id, path) for path in batch.removed],
    )
    return written


def _write_files(
    conn: sqlite3.Connection, project_id: int, updates: Sequence[FileUpdate], stamp: str
) -> int:
    # Deleting the file rows cascades to their chunks; the trigger clears FTS and vectors.
    conn.executemany(
        "DELETE FROM rag_files WHERE project_id = ? AND path = ?",
        [(project_id, update.path) for update in updates],
    )
    chunk_rows = []
    fts_rows = []
    for update in updates:
        file_id = conn.execute(
            "INSERT INTO rag_files (project_id, path, language, source_type, size, mtime_ns,"
            " content_hash, skip_reason, indexed_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                project_id,
                update.path,
                update.language,
                update.source_type,
                update.size,
                update.mtime_ns,
                update.content_hash,
                update.skip_reason,
                stamp,
            ),
        ).lastrowid
        for c in update.chunks:
            chunk_rows.append(
                (
                    project_id,
                    file_id,
                    update.path,
                    update.language,
                    c.symbol,
                    c.name,
                    c.kind,
                    c.start_line,
                    c.end_line,
                    c.content,
                    c.content_hash,
                    update.source_type,
                )
            )
            fts_rows.append((c.content, c.symbol_terms, update.path, c.subtokens))
    if chunk_rows:
        conn.executemany(
            "INSERT INTO rag_chunks (project_id, file_id, path, language, symbol, name, kind,"
            " start_line, end_line, content, content_hash, source_type)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            chunk_rows,
        )
        # AUTOINCREMENT inside one write transaction: the batch got consecutive ids.
        first = conn.execute("SELECT last_insert_rowid()").fetchone()[0] - len(chunk_rows) + 1
        conn.executemany(
            "INSERT INTO rag_chunks_fts (rowid, content, symbol, path, subtokens)"
            " VALUES (?,?,?,?,?)",
            [(first + i, *row) for i, row in enumerate(fts_rows)],
        )
    return len(chunk_rows)


def _reset_vectors(conn: sqlite3.Connection, project_id: int, dimensions: int) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {_VECTOR_TABLE}")
    conn.execute(
        f"CREATE VIRTUAL TABLE {_VECTOR_TABLE} USING vec0"
        f" (embedding float[{int(dimensions)}] distance_metric=cosine)"
    )
    conn.execute("UPDATE rag_chunks SET embedded = 0 WHERE project_id = ?", (project_id,))


def _store_vectors(conn: sqlite3.Connection, vectors: Sequence[tuple[int, bytes]]) -> None:
    ids = [chunk_id for chunk_id, _ in vectors]
    live = {
        row[0]
        for row in conn.execute(
            "SELECT id FROM rag_chunks WHERE id IN (SELECT value FROM json_each(?))"
            " AND embedded = 0",
            (dump(ids),),
        )
    }
    rows = [(chunk_id, blob) for chunk_id, blob in vectors if chunk_id in live]
    conn.executemany(f"INSERT INTO {_VECTOR_TABLE} (rowid, embedding) VALUES (?, ?)", rows)
    conn.executemany("UPDATE rag_chunks SET embedded = 1 WHERE id = ?", [(row[0],) for row in rows])
