"""Ports of what a run does to the workspace: the project, snapshots, proposed changes,
commands and git operations."""

from __future__ import annotations

import builtins
from typing import Protocol

from devfactory.protocol.changes import Change, Hunk
from devfactory.protocol.commands import CommandExecution
from devfactory.protocol.enums import ChangeAction, ChangeStatus, SnapshotOrigin, SnapshotType
from devfactory.protocol.events import Event, TestCounts
from devfactory.protocol.git import GitOperation
from devfactory.protocol.project import LanguageStat, Project
from devfactory.protocol.snapshots import Snapshot

from .rows import NewEvent, OpenCommand


class ProjectRepository(Protocol):
    """One project per workspace root."""

    async def register(
        self,
        *,
        root_path: str,
        name: str,
        slug: str,
        default_branch: str | None,
        current_branch: str | None,
    ) -> Project:
        """Insert the project for ``root_path`` or refresh its name and branches."""
        ...

    async def set_detection(
        self, project_id: int, languages: list[LanguageStat], frameworks: list[str]
    ) -> None: ...

    async def get(self, project_id: int) -> Project | None: ...

    async def by_root(self, root_path: str) -> Project | None:
        """The project of ``root_path``: a daemon restarting finds it without a write."""
        ...


class SnapshotRepository(Protocol):
    """Snapshot records; the commits live in git under ``refs/devfactory/snapshots/<id>``."""

    async def next_id(self) -> int:
        """The id the next snapshot will get (its ref is named after it before it is stored)."""
        ...

    async def create_recorded(
        self,
        *,
        snapshot_id: int,
        project_id: int,
        run_id: int | None,
        type: SnapshotType,
        origin: SnapshotOrigin,
        description: str,
        ref: str,
        commit_sha: str,
        tree_sha: str,
        files_changed: int,
        event: NewEvent,
    ) -> tuple[Snapshot, Event]:
        """Store snapshot ``snapshot_id`` (announced by :meth:`next_id`; if another took it
        meanwhile, nothing is written and it fails) and the event that records it, in one
        transaction."""
        ...

    async def get(self, snapshot_id: int) -> Snapshot | None: ...

    async def list(
        self, project_id: int, run_id: int | None = None, limit: int = 50
    ) -> builtins.list[Snapshot]:
        """Newest first."""
        ...


class ChangeRepository(Protocol):
    """Proposed changes: one per (run, path) until it is reviewed."""

    async def upsert(
        self,
        *,
        project_id: int,
        run_id: int,
        path: str,
        base_commit: str,
        action: ChangeAction,
        before_hash: str | None,
        after_hash: str | None,
        diff: str | None,
        diff_path: str | None,
        hunks: builtins.list[Hunk],
        event_id: int | None,
    ) -> Change:
        """Record the run's current proposal for ``path`` (compared with ``base_commit``, the
        commit it was computed against), replacing an unreviewed one."""
        ...

    async def get(self, change_id: int) -> Change | None: ...

    async def list(
        self,
        project_id: int,
        *,
        run_id: int | None = None,
        path: str | None = None,
        status: ChangeStatus | None = None,
    ) -> builtins.list[Change]:
        """Oldest first, filtered by whichever of run, path and status are given."""
        ...

    async def paths(self, project_id: int) -> builtins.list[str]:
        """Every path a change of the project touches."""
        ...

    async def set_diff_path(self, change_id: int, diff_path: str) -> Change: ...

    async def set_status(
        self,
        change_id: int,
        status: ChangeStatus,
        *,
        reason: str | None = None,
        hunks: builtins.list[Hunk] | None = None,
    ) -> Change:
        """Set the review status (stamping ``applied_at`` when applied), and the hunks if given."""
        ...


class CommandRepository(Protocol):
    """Command executions, open from start to finish so a crashed daemon's can be closed."""

    async def start(
        self,
        *,
        project_id: int,
        run_id: int | None,
        command: str,
        args: builtins.list[str],
        working_dir: str,
        timeout_s: float,
        sandboxed: bool = False,
        was_blocked: bool = False,
        block_reason: str | None = None,
        owner: str | None = None,
        marker: str | None = None,
    ) -> CommandExecution:
        """Record a command as it starts (or as it is refused, with ``was_blocked``: closed).

        ``owner`` names the daemon running it and ``marker`` is the token in its processes'
        environment, so that if the daemon dies the next one can close the row and end them.
        """
        ...

    async def finish(
        self,
        execution_id: int,
        *,
        exit_code: int | None,
        was_killed: bool,
        stdout_path: str | None,
        stderr_path: str | None,
        output_tail: str,
        test_framework: str | None = None,
        test_counts: TestCounts | None = None,
    ) -> CommandExecution: ...

    async def abandon(
        self, execution_id: int, reason: str, *, was_killed: bool = False
    ) -> CommandExecution | None:
        """Close the row of a command that will not finish by itself (it never started, or
        its daemon died): no exit code, ``reason`` as its output. None if it was closed."""
        ...

    async def open(self, project_id: int) -> builtins.list[OpenCommand]:
        """Commands whose row is not closed: running, or left so by a daemon that died."""
        ...

    async def get(self, execution_id: int) -> CommandExecution | None: ...

    async def list(self, run_id: int) -> builtins.list[CommandExecution]:
        """A run's commands in the order they started."""
        ...


class GitOperationRepository(Protocol):
    """The audit log of every git command the daemon runs."""

    async def record(
        self,
        *,
        project_id: int,
        run_id: int | None,
        operation: str,
        args: builtins.list[str],
        exit_code: int,
        stdout: str,
        stderr: str,
        duration_ms: float,
    ) -> int:
        """Store one git invocation (outputs truncated to 64 KiB each); returns its id."""
        ...

    async def list(
        self, project_id: int, run_id: int | None = None, limit: int = 200
    ) -> builtins.list[GitOperation]:
        """Newest first."""
        ...
