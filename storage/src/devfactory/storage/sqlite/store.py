"""``SqliteStore``: the ``Store`` port over one SQLite database (``Database``)."""

from __future__ import annotations

from pathlib import Path

from ..ports.access import ApiTokenRepository, AuditRepository, TeamKeyRepository
from ..ports.accounts import ProviderAccountRepository
from ..ports.factory import (
    ConversationRepository,
    InitiativeRepository,
    InitiativeTaskRepository,
    ProposalRepository,
)
from ..ports.index import IndexRepository
from ..ports.review import DocumentationRepository, ReviewRepository
from ..ports.rows import StoreStatus
from ..ports.runs import EventRepository, HitlRepository, RunRepository
from ..ports.team import LeaseRepository, PatchRepository, RunQueue
from ..ports.workspace import (
    ChangeRepository,
    CommandRepository,
    GitOperationRepository,
    ProjectRepository,
    SnapshotRepository,
)
from .changes import SqliteChangeRepository
from .commands import SqliteCommandRepository
from .conversations import SqliteConversationRepository
from .database import Database
from .documentation import SqliteDocumentationRepository
from .events import SqliteEventRepository
from .git_operations import SqliteGitOperationRepository
from .hitl import SqliteHitlRepository
from .index import SqliteIndexRepository
from .initiative_tasks import SqliteInitiativeTaskRepository
from .initiatives import SqliteInitiativeRepository
from .projects import SqliteProjectRepository
from .proposals import SqliteProposalRepository
from .providers import SqliteProviderAccountRepository
from .reviews import SqliteReviewRepository
from .runs import SqliteRunRepository
from .snapshots import SqliteSnapshotRepository
from .team import SqliteApiTokenRepository, SqliteAuditRepository, SqliteTeamKeyRepository

_COUNTED = {
    "runs": "agent_runs",
    "events": "agent_events",
    "changes": "workspace_files",
    "snapshots": "snapshots",
    "commands": "command_executions",
    "indexedFiles": "rag_files",
    "chunks": "rag_chunks",
}
"""What ``counts`` reports: name -> table."""


class SqliteStore:
    """Every repository over one database; the attributes are typed by their ports, which
    is also what checks that each adapter class implements its port."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.projects: ProjectRepository = SqliteProjectRepository(db)
        self.runs: RunRepository = SqliteRunRepository(db)
        self.events: EventRepository = SqliteEventRepository(db)
        self.hitl: HitlRepository = SqliteHitlRepository(db)
        self.snapshots: SnapshotRepository = SqliteSnapshotRepository(db)
        self.changes: ChangeRepository = SqliteChangeRepository(db)
        self.commands: CommandRepository = SqliteCommandRepository(db)
        self.git_operations: GitOperationRepository = SqliteGitOperationRepository(db)
        self.reviews: ReviewRepository = SqliteReviewRepository(db)
        self.documentation: DocumentationRepository = SqliteDocumentationRepository(db)
        self.provider_accounts: ProviderAccountRepository = SqliteProviderAccountRepository(db)
        self.index: IndexRepository = SqliteIndexRepository(db)
        self.initiatives: InitiativeRepository = SqliteInitiativeRepository(db)
        self.tasks: InitiativeTaskRepository = SqliteInitiativeTaskRepository(db)
        self.proposals: ProposalRepository = SqliteProposalRepository(db)
        self.conversations: ConversationRepository = SqliteConversationRepository(db)
        self.leases: LeaseRepository | None = None  # one machine: runs execute in the daemon
        self.run_queue: RunQueue | None = None
        self.patches: PatchRepository | None = None  # changes' versions stay in .devfactory/
        self.api_tokens: ApiTokenRepository = SqliteApiTokenRepository(db)
        self.audit: AuditRepository = SqliteAuditRepository(db)
        self.team_keys: TeamKeyRepository = SqliteTeamKeyRepository(db)

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        return cls(await Database.open(path))

    @property
    def location(self) -> str:
        return self.db.path

    async def status(self) -> StoreStatus:
        engine, vectors = await self.db.versions()
        problem = await self.db.check_writes()
        if problem is None and (check := await self.db.scalar("PRAGMA quick_check")) != "ok":
            problem = f"the integrity check failed: {check}"
        return StoreStatus(
            engine_version=engine,
            vector_version=vectors,
            schema_version=self.db.schema_version,
            problem=problem,
        )

    async def counts(self, project_id: int) -> dict[str, int]:
        counts = {}
        for name, table in _COUNTED.items():
            counts[name] = int(
                await self.db.scalar(
                    f"SELECT count(*) FROM {table} WHERE project_id = ?", (project_id,)
                )
            )
        return counts

    async def close(self) -> None:
        await self.db.close()

    def close_now(self) -> None:
        self.db.stop_threads()
