"""DevFactory's side of the benchmark: the real ``IndexService``, in process.

The index of a checkout is brought up to date with ``rebuild(embed=True)``, the pass the
daemon runs on start-up and on a watcher rescan (size and mtime decide what is re-read,
content hashes what is re-chunked, new chunks are embedded), then checked against the tree:
every file of the tree and nothing else, each indexed file's hash equal to its bytes on disk.
By default every task gets an index built from scratch; ``run --index incremental`` moves one
index per repository from checkout to checkout, as the daemon's index follows a working tree
(the two agree since FTS5 deletions keep BM25's statistics exact; the run checks at each
repository's last task). The embedder is the daemon's, behind a cache keyed by text, so a
fresh index re-embeds only chunks new to the repository (WordLlama's vectors do not depend on
the batch a text is in). Queries go through ``IndexService.search``, the method behind
``devfactory/search``, grouped by file as an agent asks for files: the file ranking is the
daemon's, each file with its best chunks.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common import open_index_service
from .corpus import TreeEntry

MODES = ("lexical", "semantic", "hybrid")
#: Files asked for per query (``group_by`` ``file``): recall@10 needs 10, the rest is for
#: the analysis of where answers rank.
CHUNKS = 50
#: Chunks kept under each file: the file ranking does not depend on it, and each chunk costs a
#: snippet (3 under each of 50 files made the timing mostly snippet building; an agent's
#: context step asks for 4 files with 2 chunks each).
CHUNKS_PER_FILE = 1


@dataclass(frozen=True)
class ChunkHit:
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    source_type: str
    score: float


@dataclass(frozen=True)
class Search:
    hits: list[ChunkHit]
    seconds: float

    @property
    def files(self) -> list[str]:
        """Files in the order of their first hit."""
        return list(dict.fromkeys(hit.path for hit in self.hits))


class CachedEmbedder:
    """An embedder that computes each distinct text once per repository."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.dimensions: int = inner.dimensions
        self._vectors: dict[bytes, Any] = {}

    async def embed(self, texts: list[str]) -> Any:
        import numpy as np

        keys = [hashlib.blake2b(text.encode(), digest_size=16).digest() for text in texts]
        missing = {
            key: text for key, text in zip(keys, texts, strict=True) if key not in self._vectors
        }
        if missing:
            vectors = await self.inner.embed(list(missing.values()))
            self._vectors.update(zip(missing, vectors, strict=True))
        return np.ascontiguousarray(np.vstack([self._vectors[key] for key in keys]))


class DevFactoryIndex:
    """One repository's index, kept between tasks and moved with its checkout."""

    def __init__(self, store: Any, service: Any) -> None:
        self.store = store
        self.service = service

    @classmethod
    async def open(
        cls, root: Path, state: Path, cache: Path, embedder: CachedEmbedder | None = None
    ) -> DevFactoryIndex:
        """The index of ``root`` in ``state``; ``embedder`` is shared between indexes."""
        state.mkdir(parents=True, exist_ok=True)
        store, service = await open_index_service(root, state, "wordllama", cache)
        if embedder is not None:
            service.embedder = embedder
        return cls(store, service)

    async def close(self) -> None:
        await self.service.stop()
        await self.store.close()

    async def update(self) -> dict[str, Any]:
        """The daemon's full pass plus embedding; what it did and how long it took."""
        started = time.perf_counter()
        result = await self.service.rebuild(embed=True)
        return {
            "seconds": time.perf_counter() - started,
            "files_indexed": result.files_indexed,
            "files_removed": result.files_removed,
            "chunks": result.chunks,
        }

    async def ready(self) -> None:
        """A kept index: nothing to index, only its vectors to load for search."""
        embedding = self.service.ensure_embedding()
        if embedding is not None:
            await embedding

    async def verify(self, tree: Mapping[str, TreeEntry]) -> None:
        """Raise unless the index holds exactly the tree's files, with their current bytes."""
        states = await self.store.index.file_states(self.service.project_id)
        missing = sorted(set(tree) - set(states))
        extra = sorted(set(states) - set(tree))
        if missing or extra:
            raise RuntimeError(f"index and tree differ: missing {missing[:5]}, extra {extra[:5]}")
        root = self.service.root
        for path, state in states.items():
            if state.skip_reason is not None or tree[path].mode == "120000":
                continue
            digest = hashlib.sha256((root / path).read_bytes()).hexdigest()
            if digest != state.content_hash:
                raise RuntimeError(f"index holds stale content for {path}")

    async def search(self, query: str, mode: str, chunks: int = CHUNKS) -> Search:
        from devfactory.protocol.enums import SearchGroupBy, SearchMode
        from devfactory.protocol.index import SearchParams

        params = SearchParams(
            query=query,
            mode=SearchMode(mode),
            limit=chunks,
            group_by=SearchGroupBy.FILE,
            chunks_per_file=CHUNKS_PER_FILE,
        )
        started = time.perf_counter()
        result = await self.service.search(params)
        seconds = time.perf_counter() - started
        hits = [
            ChunkHit(h.path, h.start_line, h.end_line, h.symbol, h.source_type.value, h.score)
            for h in result.all_hits()
        ]
        return Search(hits, seconds)
