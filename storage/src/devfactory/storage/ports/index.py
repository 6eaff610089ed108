"""Ports of the workspace index: files, chunks, their lexical and vector search, a whole-file
lexical search, and the unsaved buffers searched beside them.

Scores follow the adapter's engine (BM25 for lexical, cosine distance for semantic; lower is
better): the buffer index a store opens ranks with the same engine, so their hits merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .rows import ChunkRow, FileMatch, FileState, FileUpdate, IndexBatch, IndexCounts

Bm25Weights = tuple[float, float, float, float]
"""Weights of the lexical columns: content, symbol, path, subtokens."""


class IndexRepository(Protocol):
    """The index of one store, per project."""

    async def file_states(
        self, project_id: int, paths: Sequence[str] | None = None
    ) -> dict[str, FileState]:
        """Path -> state of every indexed file (or of just ``paths``)."""
        ...

    async def file_ids(self, project_id: int) -> dict[str, int]:
        """Path -> id of every indexed (not skipped) file, for path filters."""
        ...

    async def apply(self, project_id: int, batch: IndexBatch) -> int:
        """Write a batch in one transaction; returns the number of chunks written."""
        ...

    async def clear(self, project_id: int) -> None:
        """Forget every file of the project, with its chunks and vectors."""
        ...

    async def counts(self, project_id: int) -> IndexCounts: ...

    async def get_meta(self, project_id: int, key: str) -> str | None: ...

    async def set_meta(self, project_id: int, key: str, value: str) -> None: ...

    async def reset_vectors(self, project_id: int, dimensions: int) -> None:
        """Drop every vector (another embedder) and mark every chunk unembedded; vectors of
        ``dimensions`` floats are stored from now on."""
        ...

    async def chunks_to_embed(self, project_id: int, limit: int) -> list[tuple[int, str]]:
        """(id, text to embed) of chunks without a vector yet, oldest first."""
        ...

    async def store_vectors(self, vectors: Sequence[tuple[int, bytes]]) -> None:
        """Store vectors of chunks (float32 blobs, native byte order), skipping chunks
        deleted meanwhile."""
        ...

    async def all_vectors(self, project_id: int) -> tuple[list[int], bytearray]:
        """Every embedded chunk's id, and their float32 vectors end to end in the same order:
        one buffer the caller can use as it is (250 MB at 250k chunks of 256 dimensions, which
        a list of blobs held a second time while the caller copied them out)."""
        ...

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
        """Chunks matching a full-text expression (FTS5 syntax), best first (score = BM25,
        negative); filtered by file ids and languages when given.

        ``also`` (an expression too) adds to the score of the chunks ``match`` finds, as if
        the two were one OR-query, and finds no chunk by itself: a query's common words.
        """
        ...

    async def common_words(self, project_id: int, floor: int) -> dict[str, int]:
        """Every lower-case word more than ``floor`` chunks hold, with how many: what tells a
        query's common words from its rare ones. Over the project's
        chunks, or the whole store's where that is what the engine counts cheaply (SQLite's
        FTS5 vocabulary). One scan of the vocabulary, for a search engine to keep per pass."""
        ...

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
        """Files whose whole text (their chunks' content and identifier sub-tokens, one
        document per file) matches a full-text expression, best first, ranked by the engine's
        lexical score over whole files (BM25 on SQLite); ``also`` and the filters as for
        :meth:`lexical`.

        The statistics count only the files that exist: re-indexing and deleting files leaves
        the ranking a fresh index of the same files would give."""
        ...

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
        distance): every candidate is measured, so a narrow filter never starves the result."""
        ...

    async def chunks_by_id(self, project_id: int, ids: Sequence[int]) -> dict[int, ChunkRow]:
        """The chunks with these ids that still exist (score 0)."""
        ...

    async def symbols(self, project_id: int, query: str, limit: int) -> list[ChunkRow]:
        """Definitions whose name contains ``query`` (case-insensitive): exact, prefix, rest."""
        ...

    async def all_chunks(self, project_id: int) -> list[ChunkRow]:
        """Every chunk, by path and line (score 0)."""
        ...

    def open_buffers(self) -> BufferIndex:
        """A private index for unsaved buffers, ranked like this one; close it when done."""
        ...


class IndexWriter(Protocol):
    """Writes index batches synchronously, from a worker process with a connection of its own
    (``open_index_writer``): its parsing never has to travel back to the daemon."""

    def apply(self, batch: IndexBatch) -> int:
        """Write a batch in one transaction; returns the number of chunks written."""
        ...

    def close(self) -> None: ...


class BufferIndex(Protocol):
    """Chunks of editor buffers that differ from disk, searchable on their own.

    Synchronous and cheap (it lives in memory); chunk ids are negative, so they never collide
    with the store's.
    """

    @property
    def paths(self) -> frozenset[str]:
        """The buffers held."""
        ...

    def put(self, update: FileUpdate) -> list[int]:
        """Hold the buffer of ``update.path`` (replacing what it had); returns the ids of
        the chunks it replaced."""
        ...

    def drop(self, path: str) -> list[int]:
        """Forget a buffer; returns the ids of its chunks."""
        ...

    def lexical(
        self, match: str, limit: int, weights: Bm25Weights, paths: frozenset[str] | None
    ) -> list[ChunkRow]:
        """Like :meth:`IndexRepository.lexical`, over the buffers of ``paths`` (None: all)."""
        ...

    def chunks(self) -> list[ChunkRow]:
        """Every chunk held, by path and line (score 0)."""
        ...

    def close(self) -> None: ...
