"""Snapshots of the user's working state: ``devfactory/snapshots/*``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ._base import Model, Params
from .enums import SnapshotOrigin, SnapshotType


class Snapshot(Model, kw_only=True):
    """A commit object under ``refs/devfactory/snapshots/<id>`` holding a working tree."""

    id: int
    project_id: int
    run_id: int | None = None
    type: SnapshotType
    origin: SnapshotOrigin
    """Whose files: a run's final and pre_command snapshots hold its worktree, and
    ``devfactory/snapshots/restore`` refuses them."""
    description: str = ""
    ref: str
    commit_sha: str
    tree_sha: str
    files_changed: int = 0
    """Files that differ from HEAD (modified, added or untracked) when it was taken."""
    created_at: str


class SnapshotCreateParams(Params, kw_only=True):
    """Parameters of ``devfactory/snapshots/create`` (a manual snapshot)."""

    description: str = ""


class SnapshotListParams(Params, kw_only=True):
    """Parameters of ``devfactory/snapshots/list``: newest first."""

    run_id: int | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    """Snapshots to return, 1 to 1000."""


class SnapshotList(Model, kw_only=True):
    """Result of ``devfactory/snapshots/list``."""

    snapshots: list[Snapshot]


class SnapshotRestoreParams(Params, kw_only=True):
    """Parameters of ``devfactory/snapshots/restore``."""

    snapshot_id: int


class SnapshotRestoreResult(Model, kw_only=True):
    """Result of ``devfactory/snapshots/restore``: ``safety`` undoes the restore."""

    restored: Snapshot
    safety: Snapshot
    files: list[str]
