"""``PostgresStore``: the ``Store`` port over one PostgreSQL database (``Database``)."""

from __future__ import annotations

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
from .changes import PostgresChangeRepository
from .commands import PostgresCommandRepository
from .conversations import PostgresConversationRepository
from .database import Database
from .documentation import PostgresDocumentationRepository
from .events import PostgresEventRepository
from .git_operations import PostgresGitOperationRepository
from .hitl import PostgresHitlRepository
from .index import PostgresIndexRepository
from .initiative_tasks import PostgresInitiativeTaskRepository
from .initiatives import PostgresInitiativeRepository
from .jobs import PostgresRunQueue
from .leases import PostgresLeaseRepository
from .patches import PostgresPatchRepository
from .projects import PostgresProjectRepository
from .proposals import PostgresProposalRepository
from .providers import PostgresProviderAccountRepository
from .reviews import PostgresReviewRepository
from .runs import PostgresRunRepository
from .snapshots import PostgresSnapshotRepository
from .team import PostgresApiTokenRepository, PostgresAuditRepository, PostgresTeamKeyRepository

_COUNTED = (
    "SELECT"
    " (SELECT count(*) FROM agent_runs WHERE project_id = %(p)s) AS runs,"
    " (SELECT count(*) FROM agent_events WHERE project_id = %(p)s) AS events,"
    " (SELECT count(*) FROM workspace_files WHERE project_id = %(p)s) AS changes,"
    " (SELECT count(*) FROM snapshots WHERE project_id = %(p)s) AS snapshots,"
    " (SELECT count(*) FROM command_executions WHERE project_id = %(p)s) AS commands,"
    ' (SELECT count(*) FROM rag_files WHERE project_id = %(p)s) AS "indexedFiles",'
    " (SELECT count(*) FROM rag_chunks WHERE project_id = %(p)s) AS chunks"
)
"""What ``counts`` reports, as SQLite's adapter does, in one round trip."""


class PostgresStore:
    """Every repository over one database; the attributes are typed by their ports, which
    is also what checks that each adapter class implements its port."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.projects: ProjectRepository = PostgresProjectRepository(db)
        self.runs: RunRepository = PostgresRunRepository(db)
        self._events = PostgresEventRepository(db)
        self.events: EventRepository = self._events
        self.hitl: HitlRepository = PostgresHitlRepository(db)
        self.snapshots: SnapshotRepository = PostgresSnapshotRepository(db)
        self.changes: ChangeRepository = PostgresChangeRepository(db)
        self.commands: CommandRepository = PostgresCommandRepository(db)
        self.git_operations: GitOperationRepository = PostgresGitOperationRepository(db)
        self.reviews: ReviewRepository = PostgresReviewRepository(db)
        self.documentation: DocumentationRepository = PostgresDocumentationRepository(db)
        self.provider_accounts: ProviderAccountRepository = PostgresProviderAccountRepository(db)
        self.index: IndexRepository = PostgresIndexRepository(db)
        self.initiatives: InitiativeRepository = PostgresInitiativeRepository(db)
        self.tasks: InitiativeTaskRepository = PostgresInitiativeTaskRepository(db)
        self.proposals: ProposalRepository = PostgresProposalRepository(db)
        self.conversations: ConversationRepository = PostgresConversationRepository(db)
        self.leases: LeaseRepository | None = PostgresLeaseRepository(db)
        self.run_queue: RunQueue | None = PostgresRunQueue(db)
        self.patches: PatchRepository | None = PostgresPatchRepository(db)
        self.api_tokens: ApiTokenRepository = PostgresApiTokenRepository(db)
        self.audit: AuditRepository = PostgresAuditRepository(db)
        self.team_keys: TeamKeyRepository = PostgresTeamKeyRepository(db)

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        return cls(await Database.open(url))

    @property
    def location(self) -> str:
        return self.db.url

    async def status(self) -> StoreStatus:
        problem = await self.db.check_writes()
        engine = "" if problem else str(await self.db.scalar("SHOW server_version"))
        return StoreStatus(
            engine_version=engine,
            vector_version=self.db.vector_version,
            schema_version=self.db.schema_version,
            problem=problem,
            engine="postgresql",
        )

    async def counts(self, project_id: int) -> dict[str, int]:
        row = await self.db.fetchone(_COUNTED, {"p": project_id})
        assert row is not None
        return {name: int(value) for name, value in row.items()}

    async def close(self) -> None:
        await self._events.wakeups.close()
        await self.db.close()

    def close_now(self) -> None:
        self.db.stop_threads()
