"""An in-memory copy of the chunk vectors, for unfiltered nearest-neighbour queries.

The vectors live in the sqlite-vec ``vec0`` table (persisted, and scanned directly for filtered
queries). A brute-force ``vec0`` KNN over Django's 61k chunks costs ~40 ms here, most of it
per-row overhead; one matrix product over the same vectors in memory takes a few. The copy is
loaded on the first query (not when embedding ends: a large workspace's copy would sit beside
the model at the peak), grows as chunks are embedded, and is rebuilt once enough of it may
belong to deleted chunks (ids that no longer exist are simply not found when hits are read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: Rebuild from the database when this share of the rows were appended since the last load
#: (their chunks may have replaced others, whose rows linger until then).
RELOAD_SHARE = 0.3


class VectorCache:
    def __init__(self) -> None:
        self._ids: np.ndarray | None = None
        self._matrix: np.ndarray | None = None
        self._size = 0
        self._appended = 0

    @property
    def loaded(self) -> bool:
        return self._matrix is not None

    @property
    def stale(self) -> bool:
        return self._appended > RELOAD_SHARE * max(self._size, 1)

    def clear(self) -> None:
        self._ids, self._matrix, self._size, self._appended = None, None, 0, 0

    def load(self, rows: Sequence[tuple[int, bytes]], dimensions: int) -> None:
        """Replace the copy with ``(chunk id, float32 blob)`` rows."""
        import numpy as np

        self._ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        self._matrix = np.empty((len(rows), dimensions), dtype=np.float32)
        for index, (_, blob) in enumerate(rows):  # row by row: no second copy of everything
            self._matrix[index] = np.frombuffer(blob, dtype=np.float32)
        self._size = len(rows)
        self._appended = 0

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Append freshly embedded chunks (ignored until the copy is loaded)."""
        import numpy as np

        if self._matrix is None or self._ids is None or not len(ids):
            return
        needed = self._size + len(ids)
        if needed > len(self._matrix):  # grow by doubling: appends stay amortised O(1)
            capacity = max(needed, 2 * len(self._matrix), 1024)
            matrix = np.empty((capacity, self._matrix.shape[1]), dtype=np.float32)
            matrix[: self._size] = self._matrix[: self._size]
            ids_array = np.empty(capacity, dtype=np.int64)
            ids_array[: self._size] = self._ids[: self._size]
            self._matrix, self._ids = matrix, ids_array
        self._matrix[self._size : needed] = vectors
        self._ids[self._size : needed] = ids
        self._size = needed
        self._appended += len(ids)

    def nearest(self, query: bytes, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine distance) of the ``k`` nearest rows, nearest first."""
        import numpy as np

        if self._matrix is None or self._ids is None or self._size == 0:
            return []
        vector = np.frombuffer(query, dtype=np.float32)
        similarity = self._matrix[: self._size] @ vector
        k = min(k, self._size)
        top = np.argpartition(-similarity, k - 1)[:k]
        top = top[np.argsort(-similarity[top], kind="stable")]
        return [(int(self._ids[i]), float(1.0 - similarity[i])) for i in top]
