"""``devfactory/search``: lexical (FTS5 BM25), semantic (sqlite-vec) and hybrid search over
the on-disk index plus the overlay of unsaved buffers, files ranked first (:mod:`.fusion`),
listed as chunks or grouped by file.

Bad requests are refused with InvalidParams naming the field; filters (path globs, languages)
are applied inside the queries, so a narrow filter never returns fewer hits than exist.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pathspec
from msgspec.structs import replace

from devfactory.protocol.enums import SearchGroupBy, SearchMode, SourceType
from devfactory.protocol.index import FileHit, SearchHit, SearchParams, SearchResult
from devfactory.storage import Store
from devfactory.storage.ports import ChunkRow, FileMatch

from ..errors import InvalidParams, Unavailable
from .fusion import RankedFile, rank_files, ranked_chunks
from .overlay import BufferOverlay
from .ranking import (
    BM25_WEIGHTS,
    COMMON_FLOOR,
    LexicalQuery,
    QueryTerm,
    QueryTraits,
    common_words_split,
    query_terms,
    snippet,
)
from .vectors import VectorCache

if TYPE_CHECKING:
    from .embedders import Embedder

MAX_QUERY_CHARS = 2_000
LEXICAL_CANDIDATES = 200
"""Chunks read from the lexical index per search (at least): files are ranked on several
chunks each. FTS5 scores every match anyway, so the depth costs only the rows read."""
SEMANTIC_CANDIDATES = 100
WHOLE_FILE_CANDIDATES = 50
"""Files read from the whole-file lexical index per search (its ranks beyond are noise)."""


def validate(params: SearchParams, root: Path) -> list[str] | None:
    """Check a search request; returns its path globs made workspace-relative."""
    if not params.query.strip():
        raise InvalidParams("query must not be empty: pass words or identifiers to look for")
    if len(params.query) > MAX_QUERY_CHARS:
        raise InvalidParams(
            f"query is {len(params.query)} characters long; shorten it to {MAX_QUERY_CHARS}"
        )
    if params.paths is None:
        return None
    return [_relative_glob(pattern, root) for pattern in params.paths]


def _relative_glob(pattern: str, root: Path) -> str:
    if not pattern.strip():
        raise InvalidParams("paths must not contain empty patterns")
    pure = PurePosixPath(pattern.replace("\\", "/"))
    if pure.is_absolute():
        try:
            pure = PurePosixPath(Path(pattern).resolve(strict=False).relative_to(root).as_posix())
        except ValueError:
            raise InvalidParams(
                f"paths: {pattern!r} is outside the workspace {root}; use a path or glob "
                "relative to the workspace root"
            ) from None
    if ".." in pure.parts:
        raise InvalidParams(
            f"paths: {pattern!r} leaves the workspace; use a path or glob relative to its root"
        )
    return str(pure)


def _matcher(globs: Sequence[str]) -> Callable[[str], bool]:
    """Gitignore-style matching, so ``src/`` and ``*.py`` mean what they do there."""
    spec = pathspec.GitIgnoreSpec.from_lines(globs)
    return spec.match_file


class SearchEngine:
    """Runs searches against one project's index and the buffer overlay."""

    def __init__(
        self,
        store: Store,
        project_id: int,
        root: Path,
        overlay: BufferOverlay,
        embedder: Callable[[], Embedder | str],
        vectors: VectorCache,
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.root = root
        self.overlay = overlay
        self._embedder = embedder
        """The embedder searches use, or why there is none (a semantic search answers that)."""
        self.vectors = vectors
        self._vectors_loading = asyncio.Lock()
        self._file_ids: dict[str, int] | None = None
        self._query_vectors: dict[str, bytes] = {}
        self._common_words: asyncio.Future[dict[str, int]] | None = None
        """The words more than COMMON_FLOOR chunks hold, with how many: read on the first
        search after each pass. Looking up each query word instead read its whole posting
        list, a few ms a query at 250k chunks; a word's share moves little between passes."""

    def invalidate(self, *, counts: bool = False) -> None:
        """The set of indexed files changed (a pass or an update ran); ``counts``: so may have
        the words' counts (a pass, not a saved file)."""
        self._file_ids = None
        if counts:
            self._common_words = None

    async def search(self, params: SearchParams) -> SearchResult:
        started = time.perf_counter()
        globs = validate(params, self.root)
        traits = QueryTraits(params.query)
        languages = [lang.lower() for lang in params.languages] if params.languages else None
        file_ids, allowed_overlay = await self._filters(globs, languages)
        lexical: list[ChunkRow] = []
        semantic: list[ChunkRow] = []
        lexical_depth = max(params.limit, LEXICAL_CANDIDATES)
        semantic_depth = max(params.limit, SEMANTIC_CANDIDATES)
        whole_files: list[FileMatch] = []
        if params.mode is SearchMode.LEXICAL:
            lexical, whole_files = await self._lexical_side(
                params.query, lexical_depth, file_ids, languages, allowed_overlay
            )
        elif params.mode is SearchMode.SEMANTIC:
            semantic = await self._semantic(
                params, semantic_depth, file_ids, languages, allowed_overlay
            )
        else:  # the query's vector is computed while SQLite ranks the lexical side
            (lexical, whole_files), semantic = await asyncio.gather(
                self._lexical_side(
                    params.query, lexical_depth, file_ids, languages, allowed_overlay
                ),
                self._semantic(params, semantic_depth, file_ids, languages, allowed_overlay),
            )
        files = rank_files(lexical, semantic, traits, whole_files)
        hits: list[SearchHit] = []
        grouped: list[FileHit] | None = None
        if params.group_by is SearchGroupBy.FILE:
            grouped = [
                self._file_hit(ranked, params.chunks_per_file, traits)
                for ranked in files[: params.limit]
            ]
        else:
            chunks = ranked_chunks(files)[: params.limit]
            hits = [self._hit(row, score, traits) for row, score in chunks]
        return SearchResult(
            query=params.query,
            mode=params.mode,
            hits=hits,
            files=grouped,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def _filters(
        self, globs: list[str] | None, languages: list[str] | None
    ) -> tuple[list[int] | None, frozenset[str] | None]:
        """(database file ids allowed, overlay paths allowed); ``None`` means no filter."""
        overlay_paths = self.overlay.paths
        if globs is None and languages is None:
            return None, None
        allowed_overlay = overlay_paths
        file_ids = None
        if globs is not None:
            if self._file_ids is None:
                self._file_ids = await self.store.index.file_ids(self.project_id)
            match = _matcher(globs)
            file_ids = [fid for path, fid in self._file_ids.items() if match(path)]
            allowed_overlay = frozenset(p for p in overlay_paths if match(p))
        if languages is not None:
            from .discovery import classify

            allowed_overlay = frozenset(p for p in allowed_overlay if classify(p)[0] in languages)
        return file_ids, allowed_overlay

    async def _lexical_side(
        self,
        query: str,
        depth: int,
        file_ids: list[int] | None,
        languages: list[str] | None,
        allowed_overlay: frozenset[str] | None,
    ) -> tuple[list[ChunkRow], list[FileMatch]]:
        """The best chunks and the best whole files, both found by the query's rarer terms
        and scored by all of them (its common words find nothing by themselves)."""
        terms = query_terms(query)
        split = common_words_split(terms, await self._word_counts(terms))
        return await asyncio.gather(
            self._lexical(terms, split, depth, file_ids, languages, allowed_overlay),
            self._whole_files(split, file_ids, languages),
        )

    async def _lexical(
        self,
        terms: Sequence[QueryTerm],
        split: LexicalQuery | None,
        depth: int,
        file_ids: list[int] | None,
        languages: list[str] | None,
        allowed_overlay: frozenset[str] | None,
    ) -> list[ChunkRow]:
        if split is None:
            return []
        overlaid = self.overlay.paths
        rows = await self.store.index.lexical(
            self.project_id,
            split.match,
            depth + 4 * len(overlaid),
            weights=BM25_WEIGHTS,
            also=split.also,
            file_ids=file_ids,
            languages=languages,
        )
        if not overlaid:
            return rows[:depth]
        rows = [row for row in rows if row.path not in overlaid]
        everything = " OR ".join(term.expression for term in terms)  # a few buffers: all of it
        rows += self.overlay.lexical(everything, depth, BM25_WEIGHTS, allowed_overlay)
        rows.sort(key=lambda row: row.score)
        return rows[:depth]

    async def _word_counts(self, terms: Sequence[QueryTerm]) -> dict[str, int]:
        """How many chunks hold each of the terms' words (0 for those held by COMMON_FLOOR or
        fewer, never common)."""
        loading = self._common_words
        if loading is None:
            loading = self._common_words = asyncio.ensure_future(
                self.store.index.common_words(self.project_id, COMMON_FLOOR)
            )
        try:
            common = await asyncio.shield(loading)
        except Exception:
            if self._common_words is loading:
                self._common_words = None  # the next search tries again
            raise
        return {term.word: common.get(term.word, 0) for term in terms if term.word}

    async def _whole_files(
        self, split: LexicalQuery | None, file_ids: list[int] | None, languages: list[str] | None
    ) -> list[FileMatch]:
        """The best files by whole-file BM25 (not the overlaid ones: their text on disk is
        not what the editor holds)."""
        if split is None:
            return []
        overlaid = self.overlay.paths
        found = await self.store.index.file_lexical(
            self.project_id,
            split.match,
            WHOLE_FILE_CANDIDATES + len(overlaid),
            also=split.also,
            file_ids=file_ids,
            languages=languages,
        )
        return [match for match in found if match.path not in overlaid][:WHOLE_FILE_CANDIDATES]

    async def _semantic(
        self,
        params: SearchParams,
        depth: int,
        file_ids: list[int] | None,
        languages: list[str] | None,
        allowed_overlay: frozenset[str] | None,
    ) -> list[ChunkRow]:
        embedder = self._embedder()
        if isinstance(embedder, str):
            if params.mode is SearchMode.SEMANTIC:
                raise Unavailable(embedder)
            return []
        vector = await self._query_vector(embedder, params.query)
        overlaid = self.overlay.paths
        wanted = depth + 4 * len(overlaid)
        if file_ids is None and languages is None:
            rows = await self._nearest(vector, wanted)
        else:
            rows = await self.store.index.semantic(
                self.project_id, vector, wanted, file_ids=file_ids, languages=languages
            )
        if not overlaid:
            return rows[:depth]
        rows = [row for row in rows if row.path not in overlaid]
        rows += await self._overlay_semantic(embedder, vector, allowed_overlay)
        rows.sort(key=lambda row: row.score)
        return rows[:depth]

    async def load_vectors(self, dimensions: int) -> None:
        """Bring the in-memory copy of the vectors up to date (on the first unfiltered semantic
        query, not when embedding ends: the copy would sit beside the model at the peak)."""
        async with self._vectors_loading:
            if not self.vectors.loaded or self.vectors.stale:
                ids, stored = await self.store.index.all_vectors(self.project_id)
                await asyncio.to_thread(self.vectors.load, ids, stored, dimensions)

    async def _nearest(self, vector: bytes, k: int) -> list[ChunkRow]:
        """Unfiltered nearest chunks, from the in-memory copy of the vectors."""
        await self.load_vectors(len(vector) // 4)
        # Off the event loop: at 250k chunks the product reads 250 MB (tens of ms).
        candidates = await asyncio.to_thread(self.vectors.nearest, vector, 2 * k + 16)
        found = await self.store.index.chunks_by_id(self.project_id, [i for i, _ in candidates])
        nearest = [replace(found[i], score=d) for i, d in candidates if i in found]
        return nearest[:k]

    async def _query_vector(self, embedder: Embedder, query: str) -> bytes:
        vector = self._query_vectors.get(query)
        if vector is None:
            vector = (await embedder.embed([query]))[0].tobytes()
            if len(self._query_vectors) > 256:
                self._query_vectors.clear()
            self._query_vectors[query] = vector
        return vector

    async def _overlay_semantic(
        self, embedder: Embedder, query_vector: bytes, allowed: frozenset[str] | None
    ) -> list[ChunkRow]:
        import numpy as np

        rows = [row for row in self.overlay.chunks() if allowed is None or row.path in allowed]
        missing = [row for row in rows if row.id not in self.overlay.vectors]
        if missing:
            vectors = await embedder.embed([f"{r.symbol or ''}\n{r.content}" for r in missing])
            for row, vector in zip(missing, vectors, strict=True):
                self.overlay.vectors[row.id] = vector
        query = np.frombuffer(query_vector, dtype=np.float32)
        return [
            replace(row, score=1.0 - float(np.dot(self.overlay.vectors[row.id], query)))
            for row in rows
        ]

    def _file_hit(self, ranked: RankedFile, chunks: int, traits: QueryTraits) -> FileHit:
        first = ranked.first
        return FileHit(
            path=ranked.path,
            language=first.language,
            source_type=SourceType(first.source_type),
            score=round(ranked.score, 6),
            hits=[self._hit(row, score, traits) for row, score in ranked.chunks[:chunks]],
        )

    def _hit(self, row: ChunkRow, score: float, traits: QueryTraits) -> SearchHit:
        return SearchHit(
            path=row.path,
            start_line=row.start_line,
            end_line=row.end_line,
            symbol=row.symbol,
            kind=row.kind,
            language=row.language,
            source_type=SourceType(row.source_type),
            score=round(score, 6),
            snippet=snippet(row.content, traits),
        )
