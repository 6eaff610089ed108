"""``RunContext``: what every run of this daemon works with, handed to the manager and its
workers instead of the server or a bag of optional services."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .ports import NoProposals, Proposals

if TYPE_CHECKING:
    from devfactory.protocol.settings import Settings
    from devfactory.storage import Store

    from ..agents.context import Search
    from ..events.bus import EventBus
    from ..execution.service import CommandService
    from ..ports import Notify
    from ..workspace.checkpoints import CheckpointService
    from ..workspace.snapshots import SnapshotService
    from ..workspace.worktrees import WorktreeManager


@dataclass(frozen=True)
class RunContext:
    store: Store
    project_id: int
    settings: Settings
    root: Path
    """The workspace (the user's files, which runs never write)."""
    events: EventBus
    notify: Notify
    snapshots: SnapshotService
    worktrees: WorktreeManager
    checkpoints: CheckpointService
    """Per-step checkpoints of runs' worktrees (rewind goes back to them)."""
    proposals: Proposals = field(default_factory=NoProposals)
    """Where a run's changes go for review."""
    commands: CommandService | None = None
    """Runs commands for the agent and the user; without it the agent has no command tool."""
    search: Search | None = None
    """The workspace index's search; without it the agent has no code search."""
