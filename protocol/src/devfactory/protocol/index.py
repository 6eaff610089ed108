"""Retrieval over the workspace index: ``devfactory/search`` and ``devfactory/index/*``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ._base import Model, Params
from .enums import SearchMode, SourceType


class SearchParams(Params, kw_only=True):
    """Parameters of ``devfactory/search``."""

    query: str
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20
    """Number of hits to return, 1 to 200."""
    mode: SearchMode = SearchMode.HYBRID
    paths: list[str] | None = None
    """Glob patterns (workspace-relative) that a hit's path must match."""
    languages: list[str] | None = None


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


class SearchResult(Model, kw_only=True):
    """Result of ``devfactory/search``."""

    query: str
    mode: SearchMode
    hits: list[SearchHit]
    took_ms: float


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
