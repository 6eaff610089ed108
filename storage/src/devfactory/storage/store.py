"""``Store``: the database and one repository per aggregate, opened together."""

from __future__ import annotations

from pathlib import Path

from .database import Database
from .repositories.changes import ChangeRepository
from .repositories.commands import CommandRepository
from .repositories.conversations import SqliteConversationRepository
from .repositories.documentation import DocumentationRepository
from .repositories.events import EventRepository
from .repositories.git_operations import GitOperationRepository
from .repositories.hitl import HitlRepository
from .repositories.initiative_tasks import SqliteTaskRepository
from .repositories.initiatives import SqliteInitiativeRepository
from .repositories.projects import ProjectRepository
from .repositories.proposals import SqliteProposalRepository
from .repositories.providers import ProviderAccountRepository
from .repositories.rag import RagRepository
from .repositories.reviews import ReviewRepository
from .repositories.runs import RunRepository
from .repositories.settings import SettingsRepository
from .repositories.snapshots import SnapshotRepository


class Store:
    """Everything the daemon persists, behind typed repositories."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.projects = ProjectRepository(db)
        self.runs = RunRepository(db)
        self.events = EventRepository(db)
        self.snapshots = SnapshotRepository(db)
        self.changes = ChangeRepository(db)
        self.commands = CommandRepository(db)
        self.git_operations = GitOperationRepository(db)
        self.hitl = HitlRepository(db)
        self.reviews = ReviewRepository(db)
        self.documentation = DocumentationRepository(db)
        self.provider_accounts = ProviderAccountRepository(db)
        self.settings = SettingsRepository(db)
        self.rag = RagRepository(db)
        self.initiatives = SqliteInitiativeRepository(db)
        self.tasks = SqliteTaskRepository(db)
        self.proposals = SqliteProposalRepository(db)
        self.conversations = SqliteConversationRepository(db)

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self.db.close()

    async def counts(self, project_id: int) -> dict[str, int]:
        """Row counts per aggregate, for ``devfactory/health``."""
        tables = {
            "runs": "agent_runs",
            "events": "agent_events",
            "changes": "workspace_files",
            "snapshots": "snapshots",
            "commands": "command_executions",
            "indexedFiles": "rag_files",
            "chunks": "rag_chunks",
        }
        counts = {}
        for name, table in tables.items():
            counts[name] = int(
                await self.db.scalar(
                    f"SELECT count(*) FROM {table} WHERE project_id = ?", (project_id,)
                )
            )
        return counts
