"""``Workspace``: the open workspace, what every feature may ask for once ``initialize``
has named the folder (its state paths, settings, database, project record and git).

Features' own services are not here: each feature provides its service by type through the
wiring (:mod:`.wiring`), and declares the ones it needs.
"""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.project import Project
from devfactory.protocol.runs import Run
from devfactory.protocol.settings import Settings
from devfactory.storage import Store

from .git.runner import GitResult, GitRunner
from .paths import StatePaths
from .runs.lookup import project_run
from .runs.ownership import DaemonLock


class Workspace:
    def __init__(
        self,
        *,
        paths: StatePaths,
        settings: Settings,
        store: Store,
        project: Project,
        is_git_repo: bool,
        inside_repository: bool,
        daemon: DaemonLock,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self.project = project
        self.is_git_repo = is_git_repo
        """False when the workspace is not the top of a git repository's work tree: snapshots
        and worktrees use a private repository."""
        self.inside_repository = inside_repository
        """The workspace is a folder inside a repository's work tree (not its top): the private
        repository ignores what that repository ignores."""
        self.daemon = daemon
        """This daemon's identity in the workspace: who runs a run or a command, so the next
        daemon can tell what one that died left behind."""
        self.git = GitRunner(paths.root, on_finished=self.record_git)
        """git in the workspace, every call recorded in the audit log."""

    @property
    def root(self) -> Path:
        return self.paths.root

    async def run(self, run_id: int) -> Run:
        """A run of this workspace, or NotFound."""
        return await project_run(self.store, self.project.id, run_id)

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
