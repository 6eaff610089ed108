"""The index's writes and the queries every index connection shares, as functions of a
connection: the store runs them on its writer or a reader thread, a worker process on its own
connection, the buffer index on its in-memory database. One SQL text for each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

from ..clock import now_iso
from ..codec import dump
from ..ports.rows import ChunkRow, FileMatch, FileUpdate, IndexBatch, NewChunk
from .database import select

VECTOR_TABLE = "rag_chunk_vectors"

CHUNK_COLUMNS = (
    "c.id, c.path, c.language, c.symbol, c.name, c.kind, c.start_line, c.end_line, c.content,"
    " c.source_type"
)


def chunk_rows(rows: Sequence[sqlite3.Row]) -> list[ChunkRow]:
    """Rows selected as ``CHUNK_COLUMNS, score``, as ChunkRows."""
    return [ChunkRow(*row) for row in rows]


def filter_sql(
    file_ids: Sequence[int] | None, languages: Sequence[str] | None, file_id: str = "c.file_id"
) -> str:
    """The filters' SQL over ``c`` (a chunk, or a file with ``file_id="c.id"``)."""
    sql = ""
    if file_ids is not None:
        sql += f" AND {file_id} IN (SELECT value FROM json_each(?))"
    if languages is not None:
        sql += " AND c.language IN (SELECT value FROM json_each(?))"
    return sql


def filter_args(file_ids: Sequence[int] | None, languages: Sequence[str] | None) -> list[str]:
    args = []
    if file_ids is not None:
        args.append(dump(list(file_ids)))
    if languages is not None:
        args.append(dump(list(languages)))
    return args


# -- reads -----------------------------------------------------------------------------------------


class _Ranked(NamedTuple):
    fts: str
    """The FTS5 table, and its ``bm25()`` call (with the columns' weights)."""
    bm25: str
    rows: str
    """The table whose ``id`` is the FTS5 rowid (it has ``project_id`` and the filters' columns)."""
    file_id: str
    """The filters' file id column in ``rows`` (as ``c``)."""


def scored_expressions(match: str, also: str | None) -> list[str]:
    """The FTS5 expressions whose best rows, each row at its better score (:func:`best_of`),
    are the rows ``match`` finds scored by ``match OR also``.

    With ``also``: the best rows holding an ``also`` term (``match AND also``, scored whole)
    and the best of all of them scored by ``match`` alone. That is exact: a row's
    ``match``-only score is its whole score when it holds no ``also`` term and is lower
    otherwise, so a row the first list misses scores below its ``limit`` rows. FTS5 then never
    scores the rows only ``also`` finds (reading a common word's whole posting list once, for
    its IDF, costs far less than scoring each of its rows), and the two run on two readers.
    """
    return [match] if also is None else [f"({match}) AND ({also})", match]


R = TypeVar("R", ChunkRow, FileMatch)


def best_of(found: Iterable[Sequence[R]], limit: int, key: Callable[[R], Hashable]) -> list[R]:
    """The best ``limit`` rows of several rankings of the same rows (scores negative), each
    row (by ``key``) once, at its best score; ties in ``key`` order."""
    best: dict[Hashable, R] = {}
    for rows in found:
        for row in rows:
            seen = best.get(identity := key(row))
            if seen is None or row.score < seen.score:
                best[identity] = row
    return sorted(best.values(), key=lambda row: (row.score, key(row)))[:limit]


def _best_matches(
    table: _Ranked,
    project_id: int,
    expression: str,
    limit: int,
    file_ids: Sequence[int] | None,
    languages: Sequence[str] | None,
) -> tuple[str, list[Any]]:
    """The best ``limit`` (rowid, score) rows of ``table`` for ``expression``, as SQL and
    arguments."""
    bm25 = f"SELECT rowid, {table.bm25} AS score FROM {table.fts}"
    if file_ids is None and languages is None:  # rank and cut inside FTS5, then read the winners
        return f"{bm25} WHERE {table.fts} MATCH ? ORDER BY score LIMIT ?", [expression, limit]
    return (
        f"SELECT f.rowid, f.score FROM ({bm25} WHERE {table.fts} MATCH ?) AS f"
        f" JOIN {table.rows} c ON c.id = f.rowid"
        f" WHERE c.project_id = ?{filter_sql(file_ids, languages, table.file_id)}"
        " ORDER BY f.score LIMIT ?"
    ), [expression, project_id, *filter_args(file_ids, languages), limit]


def lexical(
    conn: sqlite3.Connection,
    project_id: int,
    expression: str,
    limit: int,
    file_ids: Sequence[int] | None,
    languages: Sequence[str] | None,
    *,
    weights: Sequence[float],
) -> list[ChunkRow]:
    """Chunks matching an FTS5 expression, best BM25 first (score = bm25, negative)."""
    w = ", ".join(str(float(x)) for x in weights)
    chunks = _Ranked("rag_chunks_fts", f"bm25(rag_chunks_fts, {w})", "rag_chunks", "c.file_id")
    best, args = _best_matches(chunks, project_id, expression, limit, file_ids, languages)
    rows = select(
        conn,
        f"SELECT {CHUNK_COLUMNS}, f.score FROM ({best}) AS f"
        " JOIN rag_chunks c ON c.id = f.rowid WHERE c.project_id = ? ORDER BY f.score, c.id",
        (*args, project_id),
    )
    return chunk_rows(rows)


def all_vectors(conn: sqlite3.Connection, project_id: int) -> tuple[list[int], bytearray]:
    """Every embedded chunk's id and its vector, copied row by row into one buffer sized from
    the count of embedded chunks (grown or cut if a write came in between)."""
    expected = conn.execute(
        "SELECT count(*) FROM rag_chunks WHERE project_id = ? AND embedded = 1", (project_id,)
    ).fetchone()[0]
    ids: list[int] = []
    vectors = bytearray()
    end = 0
    for chunk_id, blob in conn.execute(
        f"SELECT v.rowid, v.embedding FROM {VECTOR_TABLE} v"
        " JOIN rag_chunks c ON c.id = v.rowid WHERE c.project_id = ?",
        (project_id,),
    ):
        if not vectors:
            vectors = bytearray(int(expected) * len(blob))
        if end + len(blob) <= len(vectors):
            vectors[end : end + len(blob)] = blob
        else:
            vectors += blob
        end += len(blob)
        ids.append(chunk_id)
    del vectors[end:]
    return ids, vectors


VOCABULARY = "temp.rag_chunks_vocab"
"""FTS5's own count of the rows holding each term (a temp table of the connection: nothing
in the schema, nothing to migrate)."""


def common_words(conn: sqlite3.Connection, floor: int) -> dict[str, int]:
    """Each word more than ``floor`` rows of the FTS5 table hold, with their number, over the
    whole store: one pass over the vocabulary (0.6 s at 250k chunks)."""
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {VOCABULARY}"
        " USING fts5vocab(main, 'rag_chunks_fts', 'row')"
    )
    rows = conn.execute(f"SELECT term, doc FROM {VOCABULARY} WHERE doc > ?", (floor,))
    return {term: int(doc) for term, doc in rows}


def file_lexical(
    conn: sqlite3.Connection,
    project_id: int,
    expression: str,
    limit: int,
    file_ids: Sequence[int] | None,
    languages: Sequence[str] | None,
) -> list[FileMatch]:
    """Files whose whole text matches an FTS5 expression, best BM25 first (negative)."""
    files = _Ranked("rag_files_fts", "bm25(rag_files_fts)", "rag_files", "c.id")
    best, args = _best_matches(files, project_id, expression, limit, file_ids, languages)
    rows = select(
        conn,
        f"SELECT c.path, c.source_type, m.score FROM ({best}) AS m"
        " JOIN rag_files c ON c.id = m.rowid WHERE c.project_id = ? ORDER BY m.score, c.path",
        (*args, project_id),
    )
    return [FileMatch(*row) for row in rows]


def file_text(chunks: Sequence[NewChunk]) -> str:
    """A file's text in the whole-file index: its chunks' content and sub-tokens, in order.
    The delete trigger of migration 0009 rebuilds the same string from ``rag_chunks``."""
    return "\n".join(f"{c.content}\n{c.subtokens}" for c in chunks)


def all_chunks(conn: sqlite3.Connection, project_id: int) -> list[ChunkRow]:
    """Every chunk of the project by path and line (score 0)."""
    rows = select(
        conn,
        f"SELECT {CHUNK_COLUMNS}, 0.0 FROM rag_chunks c WHERE c.project_id = ?"
        " ORDER BY c.path, c.start_line",
        (project_id,),
    )
    return chunk_rows(rows)


# -- writes (inside the caller's transaction) -----------------------------------------------------


def apply_batch(conn: sqlite3.Connection, project_id: int, batch: IndexBatch) -> int:
    """Write one batch; returns the number of chunks written."""
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
    # Deleting the file rows cascades to their chunks; the triggers take the file's and the
    # chunks' text out of the FTS tables (so BM25's statistics follow) and their vectors out of
    # the vector table.
    conn.executemany(
        "DELETE FROM rag_files WHERE project_id = ? AND path = ?",
        [(project_id, update.path) for update in updates],
    )
    chunk_rows: list[tuple[Any, ...]] = []
    fts_rows: list[tuple[str, str, str, str]] = []
    file_rows: list[tuple[int, str]] = []
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
        if update.chunks:
            file_rows.append((int(file_id or 0), file_text(update.chunks)))
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
                    c.symbol_terms,
                    c.subtokens,
                )
            )
            fts_rows.append((c.content, c.symbol_terms, update.path, c.subtokens))
    if chunk_rows:
        conn.executemany(
            "INSERT INTO rag_chunks (project_id, file_id, path, language, symbol, name, kind,"
            " start_line, end_line, content, content_hash, source_type, symbol_terms, subtokens)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            chunk_rows,
        )
        # AUTOINCREMENT inside one write transaction: the batch got consecutive ids.
        last = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
        first = last - len(chunk_rows) + 1
        conn.executemany(
            "INSERT INTO rag_chunks_fts (rowid, content, symbol, path, subtokens)"
            " VALUES (?,?,?,?,?)",
            [(first + i, *row) for i, row in enumerate(fts_rows)],
        )
        conn.executemany("INSERT INTO rag_files_fts (rowid, content) VALUES (?,?)", file_rows)
    return len(chunk_rows)


def reset_vectors(conn: sqlite3.Connection, project_id: int, dimensions: int) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {VECTOR_TABLE}")
    conn.execute(
        f"CREATE VIRTUAL TABLE {VECTOR_TABLE} USING vec0"
        f" (embedding float[{int(dimensions)}] distance_metric=cosine)"
    )
    conn.execute("UPDATE rag_chunks SET embedded = 0 WHERE project_id = ?", (project_id,))


def store_vectors(conn: sqlite3.Connection, vectors: Sequence[tuple[int, bytes]]) -> None:
    ids = [chunk_id for chunk_id, _ in vectors]
    live = {
        row[0]
        for row in select(
            conn,
            "SELECT id FROM rag_chunks WHERE id IN (SELECT value FROM json_each(?))"
            " AND embedded = 0",
            (dump(ids),),
        )
    }
    rows = [(chunk_id, blob) for chunk_id, blob in vectors if chunk_id in live]
    conn.executemany(f"INSERT INTO {VECTOR_TABLE} (rowid, embedding) VALUES (?, ?)", rows)
    conn.executemany("UPDATE rag_chunks SET embedded = 1 WHERE id = ?", [(row[0],) for row in rows])
