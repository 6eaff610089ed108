"""Unsaved editor buffers, searchable without touching the on-disk index.

``didOpen``/``didChange`` put a buffer's text here (chunked the same way as files); search
asks the overlay alongside the database and drops the database's hits for overlaid paths.
``didSave`` and ``didClose`` remove a buffer: from then on the file on disk is the truth.
The overlay is a private in-memory SQLite FTS5 index, so ranking matches the real one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlean

from devfactory.storage.repositories.rag import ChunkRow, NewChunk

from .chunker import chunk_file
from .discovery import classify

if TYPE_CHECKING:
    import numpy as np

_SCHEMA = """
CREATE TABLE chunks (id INTEGER PRIMARY KEY, path TEXT, language TEXT, symbol TEXT, name TEXT,
    kind TEXT, start_line INTEGER, end_line INTEGER, content TEXT, source_type TEXT);
CREATE VIRTUAL TABLE chunks_fts USING fts5 (content, symbol, path, subtokens, content = '',
    contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
"""


class BufferOverlay:
    """In-memory chunks of the buffers that differ from disk. Used on the event loop only."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection = sqlean.connect(":memory:")
        self._db.executescript(_SCHEMA)
        self._next_id = 1
        self._chunks: dict[str, list[tuple[int, NewChunk]]] = {}
        self.vectors: dict[int, np.ndarray] = {}
        """Chunk id -> unit vector, filled lazily by the search engine."""

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(self._chunks)

    def put(self, path: str, text: str) -> None:
        """Index the buffer of ``path`` (replacing what it had)."""
        self.drop(path)
        language, source_type = classify(path)
        entries = []
        for chunk in chunk_file(path, language, text):
            chunk_id = -self._next_id  # negative: never collides with a database chunk id
            self._next_id += 1
            self._db.execute(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    chunk_id,
                    path,
                    language,
                    chunk.symbol,
                    chunk.name,
                    chunk.kind,
                    chunk.start_line,
                    chunk.end_line,
                    chunk.content,
                    source_type.value,
                ),
            )
            self._db.execute(
                "INSERT INTO chunks_fts (rowid, content, symbol, path, subtokens)"
                " VALUES (?,?,?,?,?)",
                (chunk_id, chunk.content, chunk.symbol_terms, path, chunk.subtokens),
            )
            entries.append((chunk_id, chunk))
        self._chunks[path] = entries

    def drop(self, path: str) -> None:
        for chunk_id, _ in self._chunks.pop(path, []):
            self._db.execute("DELETE FROM chunks WHERE id = ?", (chunk_id,))
            self._db.execute("DELETE FROM chunks_fts WHERE rowid = ?", (chunk_id,))
            self.vectors.pop(chunk_id, None)

    def lexical(
        self, match: str, limit: int, weights: Sequence[float], paths: frozenset[str] | None
    ) -> list[ChunkRow]:
        """Like :meth:`RagRepository.lexical`, over the buffers (``paths``: allowed paths)."""
        if not self._chunks:
            return []
        w = ", ".join(str(float(x)) for x in weights)
        rows = self._db.execute(
            "SELECT c.id, c.path, c.language, c.symbol, c.name, c.kind, c.start_line,"
            f" c.end_line, c.content, c.source_type, bm25(chunks_fts, {w}) AS score"
            " FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid"
            " WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?",
            (match, limit),
        ).fetchall()
        return [ChunkRow(*row) for row in rows if paths is None or row[1] in paths]

    def chunks(self) -> list[ChunkRow]:
        """Every overlay chunk (score 0), for semantic ranking."""
        rows = self._db.execute(
            "SELECT id, path, language, symbol, name, kind, start_line, end_line, content,"
            " source_type, 0.0 FROM chunks"
        ).fetchall()
        return [ChunkRow(*row) for row in rows]

    def close(self) -> None:
        self._db.close()
