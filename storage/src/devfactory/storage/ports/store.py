"""The ``Store`` port: every repository of one database, opened and closed together."""

from __future__ import annotations

from typing import Protocol

from .access import ApiTokenRepository, AuditRepository, TeamKeyRepository
from .accounts import ProviderAccountRepository
from .factory import (
    ConversationRepository,
    InitiativeRepository,
    InitiativeTaskRepository,
    ProposalRepository,
)
from .index import IndexRepository
from .review import DocumentationRepository, ReviewRepository
from .rows import StoreStatus
from .runs import EventRepository, HitlRepository, RunRepository
from .team import LeaseRepository, PatchRepository, RunQueue
from .workspace import (
    ChangeRepository,
    CommandRepository,
    GitOperationRepository,
    ProjectRepository,
    SnapshotRepository,
)


class Store(Protocol):
    """Everything the daemon persists, one repository per aggregate (``open_store``)."""

    projects: ProjectRepository
    runs: RunRepository
    events: EventRepository
    hitl: HitlRepository
    snapshots: SnapshotRepository
    changes: ChangeRepository
    commands: CommandRepository
    git_operations: GitOperationRepository
    reviews: ReviewRepository
    documentation: DocumentationRepository
    provider_accounts: ProviderAccountRepository
    index: IndexRepository
    initiatives: InitiativeRepository
    tasks: InitiativeTaskRepository
    """An initiative's tasks (the factory's), not a run's steps."""
    proposals: ProposalRepository
    conversations: ConversationRepository
    leases: LeaseRepository | None
    """Run leases for team workers (None: a single machine's store)."""
    run_queue: RunQueue | None
    """Hands runs to team workers (None: runs execute in the daemon)."""
    patches: PatchRepository | None
    """Proposed changes as stored patches (None: they stay in the workspace's files)."""
    api_tokens: ApiTokenRepository
    """Team mode's API tokens (their hashes)."""
    audit: AuditRepository
    team_keys: TeamKeyRepository
    """Provider keys stored for the team, encrypted."""

    @property
    def location(self) -> str:
        """Where the database is, in the form ``open_store`` and ``open_index_writer`` take."""
        ...

    async def status(self) -> StoreStatus:
        """Versions, and whether writes work and the data is intact: cheap enough for every
        ``devfactory/health``."""
        ...

    async def counts(self, project_id: int) -> dict[str, int]:
        """Row counts per aggregate (runs, events, changes...), for ``devfactory/health``."""
        ...

    async def close(self) -> None:
        """Finish the writes queued so far, then close."""
        ...

    def close_now(self) -> None:
        """Close without an event loop (the process exits after the loop is gone), so no
        thread of the store keeps the process alive."""
        ...
