"""The storage ports: what the server may ask of a database, whichever it is.

Typed repository protocols, one per aggregate, gathered in :class:`Store`, and the rows they
take and return. The server imports these (and ``devfactory.storage.open_store``), never an
adapter; ``tests/unit/test_storage_contract.py`` holds every adapter to them.
"""

from __future__ import annotations

from .access import (
    ApiToken,
    ApiTokenRepository,
    AuditEntry,
    AuditRepository,
    TeamKey,
    TeamKeyRepository,
)
from .accounts import ProviderAccountRepository
from .factory import (
    ConversationRepository,
    InitiativeRepository,
    InitiativeTaskRepository,
    ProposalRepository,
)
from .factory_rows import (
    EventFor,
    InitiativeFields,
    InitiativeRun,
    NewArtifact,
    NewInitiative,
    NewPhase,
    NewProposal,
    NewTask,
    PhaseFields,
    ProposalFields,
    TaskFields,
)
from .index import Bm25Weights, BufferIndex, IndexRepository, IndexWriter
from .review import DocumentationRepository, ReviewRepository
from .rows import (
    ChunkRow,
    FileMatch,
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
from .team import LeaseRepository, PatchRepository, RunQueue
from .workspace import (
    ChangeRepository,
    CommandRepository,
    GitOperationRepository,
    ProjectRepository,
    SnapshotRepository,
)

__all__ = [
    "ApiToken",
    "ApiTokenRepository",
    "AuditEntry",
    "AuditRepository",
    "Bm25Weights",
    "BufferIndex",
    "ChangeRepository",
    "ChunkRow",
    "CommandRepository",
    "ConversationRepository",
    "DocumentationRepository",
    "EventFor",
    "EventRepository",
    "FileMatch",
    "FileState",
    "FileUpdate",
    "GitOperationRepository",
    "HitlRepository",
    "IndexBatch",
    "IndexCounts",
    "IndexRepository",
    "IndexWriter",
    "InitiativeFields",
    "InitiativeRepository",
    "InitiativeRun",
    "InitiativeTaskRepository",
    "LeaseRepository",
    "NewArtifact",
    "NewChunk",
    "NewEvent",
    "NewInitiative",
    "NewPhase",
    "NewProposal",
    "NewRun",
    "NewTask",
    "OpenCommand",
    "PatchRepository",
    "PhaseFields",
    "ProjectRepository",
    "ProposalFields",
    "ProposalRepository",
    "ProviderAccount",
    "ProviderAccountRepository",
    "ReviewRepository",
    "RunFields",
    "RunQueue",
    "RunRepository",
    "SnapshotRepository",
    "Store",
    "StoreStatus",
    "TaskFields",
    "TeamKey",
    "TeamKeyRepository",
]
