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

import functools
import threading
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
SIGN_BLOCK_ROWS = 16_384
"""Rows whose sign bits are compared at once: each step's temporaries (512 KB) stay in the
CPU's cache, where whole-matrix ones (8 MB at 250k rows) went out to memory and back."""


class VectorCache:
    def __init__(self) -> None:
        self._ids: np.ndarray | None = None
        self._matrix: np.ndarray | None = None
        self._signs: np.ndarray | None = None
        """Each row's sign bits, packed (rows x dimensions / 8 bytes)."""
        self._size = 0
        self._appended = 0
        self._scratch = _Scratch()
        self._scratch_lock = threading.Lock()
        """Two searches may measure at once (each on a thread of its own)."""

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

        _one_blas_thread()

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
        if self._size - self._appended <= EXACT_ROWS:
            return self._best(self._matrix[: self._size] @ vector, None, k)
        with self._scratch_lock:
            rows = self._prefilter(vector)
            similarity = self._scratch.gathered(self._matrix, rows) @ vector
        return self._best(similarity, rows, k)

    def _best(
        self, similarity: np.ndarray, rows: np.ndarray | None, k: int
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine distance) of the ``k`` most similar, ``rows`` mapping
        ``similarity``'s positions to rows (None: the same)."""
        import numpy as np

        assert self._ids is not None
        k = min(k, len(similarity))
        top = np.argpartition(-similarity, k - 1)[:k]
        top = top[np.argsort(-similarity[top], kind="stable")]
        index = top if rows is None else rows[top]
        return [
            (int(self._ids[i]), float(1.0 - s)) for i, s in zip(index, similarity[top], strict=True)
        ]

    def _prefilter(self, vector: np.ndarray) -> np.ndarray:
        """The PREFILTER_ROWS rows whose sign bits differ least from the query's (ties to the
        earlier row), in row order."""
        import numpy as np

        assert self._signs is not None
        distance = self._scratch.differing_bits(self._signs[: self._size], vector)
        # The distances are small integers: a histogram finds the cut in one pass, where
        # argpartition over 250k rows took longer than the popcounts themselves.
        below = int(np.searchsorted(np.cumsum(np.bincount(distance)), PREFILTER_ROWS))
        rows = np.flatnonzero(distance < below)
        ties = np.flatnonzero(distance == below)[: PREFILTER_ROWS - len(rows)]
        return np.sort(np.concatenate((rows, ties))) if len(ties) else rows


class _Scratch:
    """Buffers reused by every query (under the cache's lock): allocating them afresh, tens
    of MB at 250k rows, cost more in page faults than the arithmetic done in them."""

    def __init__(self) -> None:
        import numpy as np

        self._words = np.empty((0, 0), dtype=np.uint64)
        self._bits = np.empty((0, 0), dtype=np.uint8)
        self._distance = np.empty(0, dtype=np.uint16)
        self._rows = np.empty((0, 0), dtype=np.float32)

    def differing_bits(self, signs: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """How many sign bits of each row of ``signs`` differ from ``vector``'s."""
        import numpy as np

        query = np.packbits(vector > 0)
        if signs.shape[1] % 8 == 0:  # a quarter of the popcounts at 256 dimensions
            signs, query = signs.view(np.uint64), query.view(np.uint64)
        rows, columns = signs.shape
        if self._words.shape[1:] != (columns,):
            self._words = np.empty((SIGN_BLOCK_ROWS, columns), dtype=np.uint64)
            self._bits = np.empty((SIGN_BLOCK_ROWS, columns), dtype=np.uint8)
        if len(self._distance) < rows:
            self._distance = np.empty(rows + rows // 4, dtype=np.uint16)  # room for appends
        distance = self._distance[:rows]
        for start in range(0, rows, SIGN_BLOCK_ROWS):
            end = min(start + SIGN_BLOCK_ROWS, rows)
            words, bits = self._words[: end - start], self._bits[: end - start]
            np.bitwise_xor(signs[start:end], query, out=words, casting="unsafe")
            np.bitwise_count(words, out=bits)
            block = distance[start:end]
            np.add(bits[:, 0], 0, out=block, dtype=np.uint16)
            for column in range(1, columns):  # column by column: numpy sums short rows slowly
                np.add(block, bits[:, column], out=block)
        return distance

    def gathered(self, matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``matrix[rows]``, in a reused buffer."""
        import numpy as np

        if self._rows.shape[0] < len(rows) or self._rows.shape[1:] != matrix.shape[1:]:
            self._rows = np.empty((len(rows), *matrix.shape[1:]), dtype=matrix.dtype)
        out = self._rows[: len(rows)]
        # mode="clip" (the rows are in range): with the default "raise", numpy gathers into a
        # buffer of its own and copies that into ``out``, 2.6x the time at 8,192 rows.
        np.take(matrix, rows, axis=0, out=out, mode="clip")
        return out


@functools.cache
def _one_blas_thread() -> None:
    """Products here are matrix-vector, under a millisecond on one core. With a thread per
    core, OpenBLAS's extra threads spin-waited for work after each one, taking the core the
    SQLite half of a hybrid search needed: its p50 at 250k chunks went from 41 to 27 ms."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _grown(array: np.ndarray, size: int, capacity: int) -> np.ndarray:
    """``array``'s first ``size`` rows in a new array of ``capacity`` rows."""
    import numpy as np

    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[:size] = array[:size]
    return grown
