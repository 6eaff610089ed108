"""The storage ports: what the server may ask of a database, whichever it is.

Typed repository protocols, one per aggregate, gathered in :class:`Store`, and the rows they
take and return. The server imports these (and ``devfactory.storage.open_store``), never an
adapter; ``tests/unit/test_storage_contract.py`` holds every adapter to them.
"""

from __future__ import annotations

from .accounts import ProviderAccountRepository
from .index import Bm25Weights, BufferIndex, IndexRepository, IndexWriter
from .review import DocumentationRepository, ReviewRepository
from .rows import (
    ChunkRow,
    FileState,
    FileUpdate,
    IndexBatch,
    IndexCounts,
    NewChunk,
    NewEvent,
    NewRun,
    OpenCommand,
    ProviderAccount,
    RunFields,
    StoreStatus,
)
from .runs import EventRepository, HitlRepository, RunRepository
from .store import Store
from .workspace import (
    ChangeRepository,
    CommandRepository,
    GitOperationRepository,
    ProjectRepository,
    SnapshotRepository,
)

__all__ = [
    "Bm25Weights",
    "BufferIndex",
    "ChangeRepository",
    "ChunkRow",
    "CommandRepository",
    "DocumentationRepository",
    "EventRepository",
    "FileState",
    "FileUpdate",
    "GitOperationRepository",
    "HitlRepository",
    "IndexBatch",
    "IndexCounts",
    "IndexRepository",
    "IndexWriter",
    "NewChunk",
    "NewEvent",
    "NewRun",
    "OpenCommand",
    "ProjectRepository",
    "ProviderAccount",
    "ProviderAccountRepository",
    "ReviewRepository",
    "RunFields",
    "RunRepository",
    "SnapshotRepository",
    "Store",
    "StoreStatus",
]
