"""The index's writes and the queries every index connection shares, as statements: the store
runs them on a pooled async connection, a worker process and the buffer index on a
synchronous one of their own. One SQL text for each.

A batch is a few statements whatever its size: its files and chunks travel as one jsonb
document each, so writing a pass costs a round trip per statement, not per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..clock import now_iso
from ..ports.index import Bm25Weights
from ..ports.rows import ChunkRow, FileUpdate, IndexBatch
from .database import Params
from .pgcodec import dump
from .tsquery import to_tsquery, words

Statement = tuple[str, Params]

CHUNK_COLUMNS = (
    "c.id, c.path, c.language, c.symbol, c.name, c.kind, c.start_line, c.end_line, c.content,"
    " c.source_type"
)


def chunk_rows(rows: Sequence[Mapping[str, Any]]) -> list[ChunkRow]:
    """Rows selected as ``CHUNK_COLUMNS, score``, as ChunkRows."""
    return [ChunkRow(**{**row, "score": float(row["score"])}) for row in rows]


def filter_sql(
    file_ids: Sequence[int] | None, languages: Sequence[str] | None, file_id: str = "c.file_id"
) -> str:
    """The filters' SQL over ``c`` (a chunk, or a file with ``file_id="c.id"``)."""
    sql = ""
    if file_ids is not None:
        sql += f" AND {file_id} = ANY(%(file_ids)s)"
    if languages is not None:
        sql += " AND c.language = ANY(%(languages)s)"
    return sql


def filter_args(
    file_ids: Sequence[int] | None, languages: Sequence[str] | None
) -> dict[str, list[Any]]:
    args: dict[str, list[Any]] = {}
    if file_ids is not None:
        args["file_ids"] = list(file_ids)
    if languages is not None:
        args["languages"] = list(languages)
    return args


# -- reads -----------------------------------------------------------------------------------------


def lexical(
    project_id: int,
    match: str,
    limit: int,
    weights: Bm25Weights,
    file_ids: Sequence[int] | None,
    languages: Sequence[str] | None,
    also: str | None = None,
) -> Statement | None:
    """Chunks matching an FTS5 expression, best first (score = -ts_rank, so lower is better
    as with BM25); None when the expression has no word to look for. ``also`` ranks the
    chunks found as if OR-ed to ``match`` and finds none itself.

    The four columns' weights go to ts_rank as D, C, B, A (subtokens, path, symbol, content),
    scaled to at most 1 as it requires: the ranking is the same.
    """
    queries = _found_and_scored(match, also)
    if queries is None:
        return None
    found, query = queries
    content, symbol, path, subtokens = weights
    top = max(max(weights), 1e-9)
    ranked = [subtokens / top, path / top, symbol / top, content / top]
    return (
        f"SELECT {CHUNK_COLUMNS}, -ts_rank(%(weights)s::real[], c.search, q.query, 1) AS score"
        " FROM rag_chunks c, to_tsquery('simple', %(query)s) AS q(query)"
        " WHERE c.project_id = %(project)s AND c.search @@ to_tsquery('simple', %(found)s)"
        f"{filter_sql(file_ids, languages)}"
        " ORDER BY score, c.id LIMIT %(limit)s",
        {
            "weights": ranked,
            "query": query,
            "found": found,
            "project": project_id,
            "limit": limit,
            **filter_args(file_ids, languages),
        },
    )


def file_lexical(
    project_id: int,
    match: str,
    limit: int,
    file_ids: Sequence[int] | None,
    languages: Sequence[str] | None,
    also: str | None = None,
) -> Statement | None:
    """Files whose words match an FTS5 expression, best first (score = -ts_rank, normalised
    by the log of the file's length as the chunks' is); None when it has no word. ``also``
    ranks the files found as if OR-ed to ``match`` and finds none itself."""
    queries = _found_and_scored(match, also)
    if queries is None:
        return None
    found, query = queries
    return (
        "SELECT c.path, c.source_type, -ts_rank(c.search, q.query, 1) AS score"
        " FROM rag_files c, to_tsquery('simple', %(query)s) AS q(query)"
        " WHERE c.project_id = %(project)s AND c.search @@ to_tsquery('simple', %(found)s)"
        f"{filter_sql(file_ids, languages, 'c.id')}"
        " ORDER BY score, c.path LIMIT %(limit)s",
        {
            "query": query,
            "found": found,
            "project": project_id,
            "limit": limit,
            **filter_args(file_ids, languages),
        },
    )


def _found_and_scored(match: str, also: str | None) -> tuple[str, str] | None:
    """(the tsquery that finds the rows, the one that scores them) for ``match`` and its
    scoring-only ``also``; None when ``match`` has no word."""
    found = to_tsquery(match)
    if found is None:
        return None
    scored = to_tsquery(also) if also is not None else None
    return found, found if scored is None else f"({found}) | ({scored})"


def file_words(update: FileUpdate) -> str:
    """A file's words in the whole-file index: its chunks' content and sub-tokens, in order."""
    return " ".join(
        word for c in update.chunks for text in (c.content, c.subtokens) for word in words(text)
    )


def all_chunks(project_id: int) -> Statement:
    """Every chunk of the project by path and line (score 0)."""
    return (
        f"SELECT {CHUNK_COLUMNS}, 0.0 AS score FROM rag_chunks c WHERE c.project_id = %s"
        " ORDER BY c.path, c.start_line, c.id",
        (project_id,),
    )


# -- writes (in one transaction) ----------------------------------------------------------------

_SEARCH = (
    "setweight(to_tsvector('simple', c.words), 'A')"
    " || setweight(to_tsvector('simple', c.symbol_words), 'B')"
    " || setweight(to_tsvector('simple', c.path_words), 'C')"
    " || setweight(to_tsvector('simple', c.subtokens), 'D')"
)


def apply_batch(project_id: int, batch: IndexBatch) -> tuple[list[Statement], int]:
    """The statements writing one batch, and the number of chunks they write."""
    statements: list[Statement] = []
    gone = [update.path for update in batch.updates] + list(batch.removed)
    if gone:
        # Deleting the file rows cascades to their chunks and vectors.
        statements.append(
            (
                "DELETE FROM rag_files WHERE project_id = %s AND path = ANY(%s)",
                (project_id, gone),
            )
        )
    chunks = [
        {
            "path": update.path,
            "n": n,
            "symbol": c.symbol,
            "name": c.name,
            "kind": c.kind,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "content": c.content,
            "content_hash": c.content_hash,
            "words": " ".join(words(c.content)),
            "symbol_words": " ".join(words(c.symbol_terms)),
            "path_words": " ".join(words(update.path)),
            "subtokens": " ".join(words(c.subtokens)),
        }
        for update in batch.updates
        for n, c in enumerate(update.chunks)
    ]
    if batch.updates:
        files = [
            {
                "path": u.path,
                "language": u.language,
                "source_type": u.source_type,
                "size": u.size,
                "mtime_ns": u.mtime_ns,
                "content_hash": u.content_hash,
                "skip_reason": u.skip_reason,
                "n": n,
                "words": file_words(u),
            }
            for n, u in enumerate(batch.updates)
        ]
        statements.append(
            (
                "WITH f AS (INSERT INTO rag_files (project_id, path, language, source_type, size,"
                "  mtime_ns, content_hash, skip_reason, indexed_at, search)"
                "  SELECT %(project)s, f.path, f.language, f.source_type, f.size, f.mtime_ns,"
                "  f.content_hash, f.skip_reason, %(stamp)s, to_tsvector('simple', f.words)"
                "  FROM jsonb_to_recordset(%(files)s::jsonb) AS f(path text, language text,"
                "  source_type text, size bigint, mtime_ns bigint, content_hash text,"
                "  skip_reason text, n int, words text) ORDER BY f.n"
                "  RETURNING id, path, language, source_type)"
                " INSERT INTO rag_chunks (project_id, file_id, path, language, symbol, name, kind,"
                " start_line, end_line, content, content_hash, source_type, search)"
                f" SELECT %(project)s, f.id, f.path, f.language, c.symbol, c.name, c.kind,"
                f" c.start_line, c.end_line, c.content, c.content_hash, f.source_type, {_SEARCH}"
                " FROM jsonb_to_recordset(%(chunks)s::jsonb) AS c(path text, n int, symbol text,"
                " name text, kind text, start_line int, end_line int, content text,"
                " content_hash text, words text, symbol_words text, path_words text,"
                " subtokens text) JOIN f ON f.path = c.path ORDER BY f.id, c.n",
                {
                    "project": project_id,
                    "stamp": now_iso(),
                    "files": dump(files),
                    "chunks": dump(chunks),
                },
            )
        )
    if batch.touched:
        touched = [{"path": p, "size": size, "mtime_ns": mtime} for p, size, mtime in batch.touched]
        statements.append(
            (
                "UPDATE rag_files f SET size = t.size, mtime_ns = t.mtime_ns"
                " FROM jsonb_to_recordset(%s::jsonb) AS t(path text, size bigint, mtime_ns bigint)"
                " WHERE f.project_id = %s AND f.path = t.path",
                (dump(touched), project_id),
            )
        )
    return statements, len(chunks)
