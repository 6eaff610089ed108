"""Unsaved editor buffers, searchable without touching the on-disk index.

``didOpen``/``didChange`` put a buffer's text here (chunked the same way as files); search
asks the overlay alongside the database and drops the database's hits for overlaid paths.
``didSave`` and ``didClose`` remove a buffer: from then on the file on disk is the truth.
The chunks live in the store's buffer index (``IndexRepository.open_buffers``), so they are
ranked exactly like the store's own.

Only buffers of files a pass would index get here (the service asks the indexer): an open
``.env`` the workspace ignores, a file under ``.git``, a lock file or a minified bundle stays
out of search, as it does on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from devfactory.storage.ports import Bm25Weights, BufferIndex, ChunkRow, FileUpdate

from .chunker import chunk_file
from .discovery import classify, skip_by_content

if TYPE_CHECKING:
    import numpy as np


class BufferOverlay:
    """Chunks of the buffers that differ from disk, and their vectors. Used on the event
    loop only."""

    def __init__(self, buffers: BufferIndex) -> None:
        self._buffers = buffers
        self.vectors: dict[int, np.ndarray] = {}
        """Chunk id -> unit vector, filled lazily by the search engine."""

    @property
    def paths(self) -> frozenset[str]:
        return self._buffers.paths

    def put(self, update: FileUpdate) -> None:
        """Index a buffer chunked by :func:`chunk_buffer` (replacing what its path had)."""
        self._forget_vectors(self._buffers.put(update))

    def drop(self, path: str) -> None:
        self._forget_vectors(self._buffers.drop(path))

    def _forget_vectors(self, chunk_ids: Sequence[int]) -> None:
        for chunk_id in chunk_ids:
            self.vectors.pop(chunk_id, None)

    def lexical(
        self, match: str, limit: int, weights: Bm25Weights, paths: frozenset[str] | None
    ) -> list[ChunkRow]:
        """Like :meth:`IndexRepository.lexical`, over the buffers (``paths``: allowed paths)."""
        return self._buffers.lexical(match, limit, weights, paths)

    def chunks(self) -> list[ChunkRow]:
        """Every overlay chunk (score 0), for semantic ranking."""
        return self._buffers.chunks()

    def close(self) -> None:
        self._buffers.close()


def chunk_buffer(path: str, text: str, max_bytes: int) -> FileUpdate | None:
    """A buffer chunked as a pass would chunk its file, or None where a pass would skip the
    file for its content (larger than ``max_bytes``, binary, minified). Safe off the loop."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > max_bytes or skip_by_content(data) is not None:
        return None
    language, source_type = classify(path)
    return FileUpdate(
        path=path,
        language=language,
        source_type=source_type.value,
        size=len(data),
        mtime_ns=0,
        content_hash="",
        skip_reason=None,
        chunks=chunk_file(path, language, text),
    )
