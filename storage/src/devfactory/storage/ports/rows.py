"""The rows the ports take and return, besides the protocol's own Structs (Run, Event...).

Plain frozen Structs with no behaviour: what a caller hands a repository before the store
gives it an id (``NewRun``, ``NewEvent``), and the index's own rows, which never reach the
wire as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from msgspec import Struct

from devfactory.protocol.enums import EventType, RunStatus, Severity
from devfactory.protocol.runs import RunMetadata


class StoreStatus(Struct, frozen=True):
    """What ``devfactory/health`` reports about the database."""

    engine_version: str
    """The database engine's version (SQLite's, e.g. ``3.47.1``)."""
    vector_version: str | None
    """The vector search extension's version, None if it is not loaded."""
    schema_version: int
    """The last migration applied."""
    problem: str | None
    """Why writes fail or the integrity check does not pass; None when all is well."""
    engine: str = "sqlite"
    """The database engine: ``sqlite`` or ``postgresql``."""


# -- runs and events -----------------------------------------------------------------------------


class NewEvent(Struct, frozen=True):
    """An event before it has an id."""

    project_id: int
    run_id: int | None
    type: EventType
    severity: Severity
    title: str
    message: str
    payload: dict[str, Any]
    created_at: str


class NewRun(Struct, frozen=True):
    """A run before it has an id."""

    project_id: int
    title: str
    prompt: str
    status: RunStatus
    agent: str
    provider: str
    model: str | None
    mode: str
    metadata: RunMetadata
    retry_of: int | None = None


class RunFields(TypedDict, total=False):
    """The columns of a run an update may set."""

    status: RunStatus
    title: str
    model: str | None
    branch_name: str | None
    worktree_path: str | None
    base_snapshot_id: int | None
    current_step: int
    queued_at: str | None
    started_at: str | None
    completed_at: str | None
    failed_reason: str | None
    owner: str | None
    metadata: RunMetadata


class OpenCommand(Struct, frozen=True):
    """A command row without an end, and who may still be running it."""

    id: int
    run_id: int | None
    command: str
    owner: str | None
    marker: str | None


class ProviderAccount(Struct, frozen=True):
    """An API account of a provider: the *name* of the variable holding its key, never the key."""

    id: int
    provider: str
    name: str
    api_key_env: str | None
    base_url: str | None
    exhausted_until: str | None
    last_used_at: str | None


# -- the workspace index -------------------------------------------------------------------------


class FileState(Struct, frozen=True):
    """What the index knows about a file: enough to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str
    skip_reason: str | None


class NewChunk(Struct, frozen=True):
    """A chunk ready to be stored; ``symbol_terms`` and ``subtokens`` feed only the lexical
    index (the symbol's words and the parts of camelCase identifiers in the content)."""

    symbol: str | None
    name: str | None
    kind: str | None
    start_line: int
    end_line: int
    content: str
    content_hash: str
    symbol_terms: str
    subtokens: str


class FileUpdate(Struct, frozen=True):
    """A file to (re)write in the index with its chunks (none for a skipped file)."""

    path: str
    language: str | None
    source_type: str
    size: int
    mtime_ns: int
    content_hash: str
    skip_reason: str | None
    chunks: Sequence[NewChunk]


class IndexBatch(Struct, frozen=True):
    """One transaction of an indexing pass."""

    updates: Sequence[FileUpdate]
    touched: Sequence[tuple[str, int, int]] = ()
    """(path, size, mtime_ns) of files whose content hash did not change."""
    removed: Sequence[str] = ()
    """Paths to forget (their chunks, text and vectors go with them)."""


class ChunkRow(Struct, frozen=True):
    """A stored chunk with the score of the query that found it (lower is better)."""

    id: int
    path: str
    language: str | None
    symbol: str | None
    name: str | None
    kind: str | None
    start_line: int
    end_line: int
    content: str
    source_type: str
    score: float


class FileMatch(Struct, frozen=True):
    """A file matched by the whole-file lexical index, with its score (lower is better)."""

    path: str
    source_type: str
    score: float


class IndexCounts(Struct, frozen=True):
    files: int
    skipped_files: int
    chunks: int
    embedded_chunks: int
