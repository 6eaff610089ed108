"""Retrieval over the workspace index: ``devfactory/search`` and ``devfactory/index/*``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ._base import Model, Params
from .enums import SearchGroupBy, SearchMode, SourceType


class SearchParams(Params, kw_only=True):
    """Parameters of ``devfactory/search``."""

    query: str
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20
    """Number of hits to return, 1 to 200 (files, with ``group_by`` ``file``)."""
    mode: SearchMode = SearchMode.HYBRID
    paths: list[str] | None = None
    """Glob patterns (workspace-relative) that a hit's path must match."""
    languages: list[str] | None = None
    group_by: SearchGroupBy = SearchGroupBy.CHUNK
    """``chunk``: ``hits`` holds chunks, best first. ``file``: ``files`` holds files, best
    first, each with its best chunks (``hits`` stays empty)."""
    chunks_per_file: Annotated[int, msgspec.Meta(ge=1, le=20)] = 3
    """With ``group_by`` ``file``: at most this many chunks under each file, 1 to 20."""


class SearchHit(Model, kw_only=True):
    """One ranked chunk."""

    path: str
    """Path relative to the workspace root."""
    start_line: int
    end_line: int
    symbol: str | None = None
    kind: str | None = None
    language: str | None = None
    source_type: SourceType = SourceType.CODE
    score: float
    snippet: str


class FileHit(Model, kw_only=True):
    """One ranked file (``group_by`` ``file``): its score and its best chunks, best first."""

    path: str
    """Path relative to the workspace root."""
    language: str | None = None
    source_type: SourceType = SourceType.CODE
    score: float
    hits: list[SearchHit]


class SearchResult(Model, kw_only=True):
    """Result of ``devfactory/search``."""

    query: str
    mode: SearchMode
    hits: list[SearchHit]
    """The chunks found, best first (empty with ``group_by`` ``file``)."""
    took_ms: float
    files: list[FileHit] | None = None
    """The files found, best first: set with ``group_by`` ``file``, else ``None``."""

    def all_hits(self) -> list[SearchHit]:
        """Every chunk of the result, in order, however it was grouped."""
        if self.files is None:
            return self.hits
        return [hit for file in self.files for hit in file.hits]


class IndexStatus(Model, kw_only=True):
    """Result of ``devfactory/index/status``."""

    state: str
    """``idle``, ``indexing`` or ``embedding``."""
    files: int
    chunks: int
    embedded_chunks: int
    skipped_files: int = 0
    embedder: str
    last_indexed_at: str | None = None
    watching: bool = False


class IndexRebuildParams(Params, kw_only=True):
    """Parameters of ``devfactory/index/rebuild``."""

    full: bool = False
    """Drop everything and re-parse every file (otherwise only what changed)."""
    embed: bool = False
    """Also wait until every chunk has its vector (otherwise embedding goes on in the
    background after the reply)."""


class IndexRebuildResult(Model, kw_only=True):
    """Result of ``devfactory/index/rebuild``."""

    files_seen: int
    files_indexed: int
    files_unchanged: int
    files_removed: int
    files_skipped: int
    chunks: int
    duration_ms: float
