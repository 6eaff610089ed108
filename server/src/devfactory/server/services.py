"""``Services``: what the daemon holds once ``initialize`` has named the workspace.

Core services are set at construction; each feature fills its own slot during initialize
(``events``, ``index``, ``runs``...), so handlers reach each other through one typed object
instead of module globals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from devfactory.protocol.project import Project
from devfactory.protocol.settings import Settings
from devfactory.storage import Store

from .git.runner import GitResult, GitRunner
from .paths import StatePaths
from .runs.ownership import DaemonLock

if TYPE_CHECKING:
    from .events.bus import EventBus
    from .execution.service import CommandService
    from .factory.service import Factory
    from .index.service import IndexService
    from .review.service import ReviewService
    from .runs.manager import RunManager
    from .workspace.snapshots import SnapshotService


class Services:
    def __init__(
        self,
        *,
        paths: StatePaths,
        settings: Settings,
        store: Store,
        project: Project,
        is_git_repo: bool,
        daemon: DaemonLock,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self.project = project
        self.is_git_repo = is_git_repo
        """False when the workspace is not a git repository (snapshots use a private one)."""
        self.daemon = daemon
        """This daemon's identity in the workspace: who runs a run or a command, so the next
        daemon can tell what one that died left behind."""
        self.git = GitRunner(paths.root, on_finished=self.record_git)
        """git in the workspace, every call recorded in the audit log."""
        self.events: EventBus | None = None
        self.snapshots: SnapshotService | None = None
        self.runs: RunManager | None = None
        self.review: ReviewService | None = None
        self.commands: CommandService | None = None
        self.index: IndexService | None = None
        self.factory: Factory | None = None

    @property
    def root(self) -> Path:
        return self.paths.root

    async def record_git(self, operation: str, result: GitResult, run_id: int | None) -> None:
        await self.store.git_operations.record(
            project_id=self.project.id,
            run_id=run_id,
            operation=operation,
            args=result.args,
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            duration_ms=result.duration_ms,
        )
