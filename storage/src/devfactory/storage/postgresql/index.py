"""The workspace index tables: ``rag_files`` and ``rag_chunks`` (with their tsvectors),
``rag_chunk_vectors`` and ``rag_meta``.

Lexical search is PostgreSQL full text over the identifier-split words (``index_sql``), of
chunks and of whole files; names are found through a pg_trgm index; vectors are float32
``real[]`` measured by pgvector's cosine operator where the extension is installed, by SQL
elsewhere (every candidate is measured either way, as the port asks).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from ..ports.index import Bm25Weights, BufferIndex
from ..ports.rows import ChunkRow, FileMatch, FileState, IndexBatch, IndexCounts
from . import index_sql
from .buffers import PostgresBufferIndex
from .database import Connection, Database
from .index_sql import CHUNK_COLUMNS, Statement, chunk_rows, filter_args, filter_sql


def floats(blob: bytes) -> list[float]:
    """A float32 blob (native byte order) as the floats of a ``real[]``."""
    values = array("f")
    values.frombytes(blob)
    return values.tolist()


def blob(values: Sequence[float]) -> bytes:
    return array("f", values).tobytes()


class PostgresIndexRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- files ---------------------------------------------------------------------------------

    async def file_states(
        self, project_id: int, paths: Sequence[str] | None = None
    ) -> dict[str, FileState]:
        sql = (
            "SELECT id, path, size, mtime_ns, content_hash, skip_reason FROM rag_files"
            " WHERE project_id = %s"
        )
        args: tuple[object, ...] = (project_id,)
        if paths is not None:
            sql += " AND path = ANY(%s)"
            args += (list(paths),)
        rows = await self.db.fetchall(sql, args)
        return {row["path"]: FileState(**row) for row in rows}

    async def file_ids(self, project_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT path, id FROM rag_files WHERE project_id = %s AND skip_reason IS NULL",
            (project_id,),
        )
        return {row["path"]: row["id"] for row in rows}

    async def apply(self, project_id: int, batch: IndexBatch) -> int:
        statements, written = index_sql.apply_batch(project_id, batch)
        if statements:
            await self.db.write(_run_all, statements)
        return written

    async def clear(self, project_id: int) -> None:
        await self.db.execute("DELETE FROM rag_files WHERE project_id = %s", (project_id,))

    # -- state ---------------------------------------------------------------------------------

    async def counts(self, project_id: int) -> IndexCounts:
        row = await self.db.fetchone(
            "SELECT"
            " (SELECT count(*) FROM rag_files WHERE project_id = %(p)s AND skip_reason IS NULL)"
            "  AS files,"
            " (SELECT count(*) FROM rag_files WHERE project_id = %(p)s"
            "  AND skip_reason IS NOT NULL) AS skipped_files,"
            " (SELECT count(*) FROM rag_chunks WHERE project_id = %(p)s) AS chunks,"
            " (SELECT count(*) FROM rag_chunks WHERE project_id = %(p)s AND embedded)"
            "  AS embedded_chunks",
            {"p": project_id},
        )
        assert row is not None
        return IndexCounts(**row)

    async def get_meta(self, project_id: int, key: str) -> str | None:
        value = await self.db.scalar(
            "SELECT value FROM rag_meta WHERE project_id = %s AND key = %s", (project_id, key)
        )
        return None if value is None else str(value)

    async def set_meta(self, project_id: int, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO rag_meta (project_id, key, value) VALUES (%s,%s,%s)"
            " ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value",
            (project_id, key, value),
        )

    # -- vectors -------------------------------------------------------------------------------

    async def reset_vectors(self, project_id: int, dimensions: int) -> None:
        # real[] holds any length: only the project's vectors go.
        await self.db.write(
            _run_all,
            [
                (
                    "DELETE FROM rag_chunk_vectors v USING rag_chunks c"
                    " WHERE c.id = v.chunk_id AND c.project_id = %s",
                    (project_id,),
                ),
                (
                    "UPDATE rag_chunks SET embedded = false WHERE project_id = %s AND embedded",
                    (project_id,),
                ),
            ],
        )

    async def chunks_to_embed(self, project_id: int, limit: int) -> list[tuple[int, str]]:
        rows = await self.db.fetchall(
            "SELECT id, coalesce(symbol || chr(10), '') || content AS text FROM rag_chunks"
            " WHERE project_id = %s AND NOT embedded ORDER BY id LIMIT %s",
            (project_id, limit),
        )
        return [(row["id"], row["text"]) for row in rows]

    async def store_vectors(self, vectors: Sequence[tuple[int, bytes]]) -> None:
        if vectors:
            await self.db.write(_store_vectors, vectors)

    async def all_vectors(self, project_id: int) -> tuple[list[int], bytearray]:
        rows = await self.db.fetchall(
            "SELECT v.chunk_id, v.embedding FROM rag_chunk_vectors v"
            " JOIN rag_chunks c ON c.id = v.chunk_id WHERE c.project_id = %s",
            (project_id,),
        )
        vectors = bytearray()
        for row in rows:
            vectors += blob(row["embedding"])
        return [row["chunk_id"] for row in rows], vectors

    # -- search --------------------------------------------------------------------------------

    async def lexical(
        self,
        project_id: int,
        match: str,
        limit: int,
        *,
        weights: Bm25Weights,
        also: str | None = None,
        file_ids: Sequence[int] | None = None,
        languages: Sequence[str] | None = None,
    ) -> list[ChunkRow]:
        statement = index_sql.lexical(project_id, match, limit, weights, file_ids, languages, also)
        if statement is None:
            return []
        return chunk_rows(await self.db.fetchall(*statement))

    async def common_words(self, project_id: int, floor: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT word, ndoc FROM ts_stat(format("
            "'SELECT search FROM rag_chunks WHERE project_id = %%s', %(project)s::bigint))"
            " WHERE ndoc > %(floor)s",
            {"project": project_id, "floor": floor},
        )
        return {row["word"]: int(row["ndoc"]) for row in rows}

    async def file_lexical(
        self,
        project_id: int,
        match: str,
        limit: int,
        *,
        also: str | None = None,
        file_ids: Sequence[int] | None = None,
        languages: Sequence[str] | None = None,
    ) -> list[FileMatch]:
        statement = index_sql.file_lexical(project_id, match, limit, file_ids, languages, also)
        if statement is None:
            return []
        rows = await self.db.fetchall(*statement)
        return [FileMatch(**{**row, "score": float(row["score"])}) for row in rows]

    async def semantic(
        self,
        project_id: int,
        vector: bytes,
        limit: int,
        *,
        file_ids: Sequence[int] | None = None,
        languages: Sequence[str] | None = None,
    ) -> list[ChunkRow]:
        distance = (
            "devfactory_cosine_distance(v.embedding, %(vector)s::real[])"
            if self.db.vector_version is None
            else "coalesce(nullif(v.embedding::vector <=> %(vector)s::real[]::vector, 'NaN'), 1)"
        )
        rows = await self.db.fetchall(
            f"SELECT {CHUNK_COLUMNS}, {distance} AS score"
            " FROM rag_chunks c JOIN rag_chunk_vectors v ON v.chunk_id = c.id"
            f" WHERE c.project_id = %(project)s{filter_sql(file_ids, languages)}"
            " ORDER BY score, c.id LIMIT %(limit)s",
            {
                "vector": floats(vector),
                "project": project_id,
                "limit": limit,
                **filter_args(file_ids, languages),
            },
        )
        return chunk_rows(rows)

    async def chunks_by_id(self, project_id: int, ids: Sequence[int]) -> dict[int, ChunkRow]:
        rows = await self.db.fetchall(
            f"SELECT {CHUNK_COLUMNS}, 0.0 AS score FROM rag_chunks c"
            " WHERE c.id = ANY(%s) AND c.project_id = %s",
            (list(ids), project_id),
        )
        return {row.id: row for row in chunk_rows(rows)}

    async def symbols(self, project_id: int, query: str, limit: int) -> list[ChunkRow]:
        pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.fetchall(
            f"SELECT {CHUNK_COLUMNS}, CASE WHEN lower(c.name) = lower(%(query)s) THEN 0"
            " WHEN c.name ILIKE %(pattern)s || '%%' THEN 1 ELSE 2 END AS score"
            " FROM rag_chunks c WHERE c.project_id = %(project)s AND c.name IS NOT NULL"
            " AND c.name ILIKE '%%' || %(pattern)s || '%%' AND c.start_line = ("
            "  SELECT min(d.start_line) FROM rag_chunks d"
            "  WHERE d.file_id = c.file_id AND d.symbol = c.symbol)"
            " ORDER BY score, length(c.name), c.path, c.start_line LIMIT %(limit)s",
            {"query": query, "pattern": pattern, "project": project_id, "limit": limit},
        )
        return chunk_rows(rows)

    async def all_chunks(self, project_id: int) -> list[ChunkRow]:
        return chunk_rows(await self.db.fetchall(*index_sql.all_chunks(project_id)))

    def open_buffers(self) -> BufferIndex:
        return PostgresBufferIndex(self.db.url)


async def _run_all(conn: Connection, statements: Sequence[Statement]) -> None:
    for sql, params in statements:
        await conn.execute(sql, params)


async def _store_vectors(conn: Connection, vectors: Sequence[tuple[int, bytes]]) -> None:
    """Store the vectors of chunks still waiting for one (deleted ones are skipped)."""
    async with conn.cursor() as cursor:
        await cursor.executemany(
            "WITH marked AS (UPDATE rag_chunks SET embedded = true"
            " WHERE id = %s AND NOT embedded RETURNING id)"
            " INSERT INTO rag_chunk_vectors (chunk_id, embedding)"
            " SELECT id, %s::real[] FROM marked",
            [(chunk_id, floats(vector)) for chunk_id, vector in vectors],
        )
