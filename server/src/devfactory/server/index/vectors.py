"""An in-memory copy of the chunk vectors, for unfiltered nearest-neighbour queries.

The vectors live in the sqlite-vec ``vec0`` table (persisted, and scanned directly for filtered
queries). A brute-force ``vec0`` KNN over Django's 61k chunks costs ~40 ms here, most of it
per-row overhead; one matrix product over the same vectors in memory takes a few. The copy is
loaded on the first query (not when embedding ends: a large workspace's copy would sit beside
the model at the peak), grows as chunks are embedded, and is rebuilt once enough of it may
belong to deleted chunks (ids that no longer exist are simply not found when hits are read).

Past EXACT_ROWS rows, a query first ranks every row by the Hamming distance between sign bits
(32 bytes a row at 256 dimensions, one popcount pass: ~7x faster than the float product over
250k rows), then measures the best PREFILTER_ROWS exactly: on 4x Django's 245,840 WordLlama
vectors that keeps 98% of the exact 100 nearest (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: Rebuild from the database when this share of the rows were appended since the last load
#: (their chunks may have replaced others, whose rows linger until then).
RELOAD_SHARE = 0.3
EXACT_ROWS = 65_536
"""Up to this many rows loaded from the database every query is exact (the product costs a
few ms)."""
PREFILTER_ROWS = 8_192
"""Rows measured exactly after the sign-bit ranking, beyond EXACT_ROWS."""


class VectorCache:
    def __init__(self) -> None:
        self._ids: np.ndarray | None = None
        self._matrix: np.ndarray | None = None
        self._signs: np.ndarray | None = None
        """Each row's sign bits, packed (rows x dimensions / 8 bytes)."""
        self._size = 0
        self._appended = 0

    @property
    def loaded(self) -> bool:
        return self._matrix is not None

    @property
    def stale(self) -> bool:
        return self._appended > RELOAD_SHARE * max(self._size, 1)

    def clear(self) -> None:
        self._ids, self._matrix, self._signs = None, None, None
        self._size, self._appended = 0, 0

    def load(self, ids: Sequence[int], vectors: bytearray, dimensions: int) -> None:
        """Replace the copy with these chunks' float32 vectors, end to end in one buffer (the
        matrix is that buffer: no second copy)."""
        import numpy as np

        self._ids = np.asarray(ids, dtype=np.int64)
        self._matrix = np.frombuffer(vectors, dtype=np.float32).reshape(len(ids), dimensions)
        self._signs = np.empty((len(ids), (dimensions + 7) // 8), dtype=np.uint8)
        for start in range(0, len(ids), 65_536):  # in blocks: no 1-byte-per-bit temporary
            block = slice(start, start + 65_536)
            self._signs[block] = np.packbits(self._matrix[block] > 0, axis=1)
        self._size = len(ids)
        self._appended = 0

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Append freshly embedded chunks (ignored until the copy is loaded)."""
        import numpy as np

        if self._matrix is None or self._ids is None or self._signs is None or not len(ids):
            return
        needed = self._size + len(ids)
        if needed > len(self._matrix):  # grow by doubling: appends stay amortised O(1)
            capacity = max(needed, 2 * len(self._matrix), 1024)
            self._matrix = _grown(self._matrix, self._size, capacity)
            self._ids = _grown(self._ids, self._size, capacity)
            self._signs = _grown(self._signs, self._size, capacity)
        self._matrix[self._size : needed] = vectors
        self._signs[self._size : needed] = np.packbits(vectors > 0, axis=1)
        self._ids[self._size : needed] = ids
        self._size = needed
        self._appended += len(ids)

    def nearest(self, query: bytes, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine distance) of the ``k`` nearest rows, nearest first."""
        import numpy as np

        if self._matrix is None or self._ids is None or self._signs is None or self._size == 0:
            return []
        vector = np.frombuffer(query, dtype=np.float32)
        # Counted at the last load (all live then): rows appended since may have replaced
        # others, and an index re-indexed file by file must rank as a fresh one does.
        loaded = self._size - self._appended
        rows = self._prefilter(vector) if loaded > EXACT_ROWS else None
        matrix = self._matrix[: self._size] if rows is None else self._matrix[rows]
        similarity = matrix @ vector
        k = min(k, len(similarity))
        top = np.argpartition(-similarity, k - 1)[:k]
        top = top[np.argsort(-similarity[top], kind="stable")]
        index = top if rows is None else rows[top]
        return [
            (int(self._ids[i]), float(1.0 - s)) for i, s in zip(index, similarity[top], strict=True)
        ]

    def _prefilter(self, vector: np.ndarray) -> np.ndarray:
        """The PREFILTER_ROWS rows whose sign bits differ least from the query's, in order."""
        import numpy as np

        assert self._signs is not None
        distance = _differing_bits(self._signs[: self._size], np.packbits(vector > 0))
        rows = np.argpartition(distance, PREFILTER_ROWS - 1)[:PREFILTER_ROWS]
        return np.sort(rows)


def _differing_bits(signs: np.ndarray, query: np.ndarray) -> np.ndarray:
    """How many sign bits of each row differ from the query's."""
    import numpy as np

    differing = signs ^ query
    if differing.shape[1] % 8 == 0:
        differing = differing.view(np.uint64)  # a quarter of the popcounts at 256 dimensions
    count = getattr(np, "bitwise_count", None)
    if count is None:  # numpy < 2
        bits: np.ndarray = np.unpackbits(differing.view(np.uint8), axis=1)
    else:
        bits = count(differing)
    distance: np.ndarray = bits.sum(axis=1, dtype=np.int32)
    return distance


def _grown(array: np.ndarray, size: int, capacity: int) -> np.ndarray:
    """``array``'s first ``size`` rows in a new array of ``capacity`` rows."""
    import numpy as np

    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[:size] = array[:size]
    return grown
