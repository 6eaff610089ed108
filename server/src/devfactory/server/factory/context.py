"""``FactoryContext``: what the factory works with, handed to its services instead of the
server or a bag of optional services; and the ports it reaches runs and review through."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from devfactory.protocol.changes import ChangeDecisionResult
from devfactory.protocol.enums import AgentRole
from devfactory.protocol.runs import Run

from ..agents.providers.base import Message, ToolSpec, Turn

if TYPE_CHECKING:
    from devfactory.protocol.settings import Settings
    from devfactory.storage import Store

    from ..agents.loop import ExtraTools
    from ..events.bus import EventBus
    from ..ports import Notify, Spawn
    from ..workspace.repository import WorkspaceRepository
    from ..workspace.snapshots import SnapshotService


@dataclass(frozen=True)
class Launch:
    """A run the factory starts: a task's, a planner's, an answer or a chat reply."""

    title: str
    prompt: str
    agent: AgentRole
    initiative_id: int
    base_commit: str
    """The run's worktree starts here (the integration branch's head), not at a snapshot of
    the user's workspace."""
    provider: str | None = None
    model: str | None = None
    tools: ExtraTools | None = None
    """The factory tools this run gets on top of its role's."""
    prepare: Callable[[Path], Awaitable[None]] | None = None
    """Called with the run's fresh worktree before the agent starts (a merge task begins
    its merge there)."""
    rag: bool = False


class RunLauncher(Protocol):
    """How the factory uses runs (implemented over the run manager)."""

    async def launch(self, launch: Launch) -> Run:
        """Create the run on its base commit, prepare its worktree and queue it."""
        ...

    def attach(self, run_id: int, tools: ExtraTools) -> None:
        """Give a queued run (recovered after a crash) its factory tools again."""
        ...

    async def get(self, run_id: int) -> Run: ...

    async def cancel(self, run_id: int) -> None:
        """Stop it if it still works (nothing when it already ended)."""
        ...

    def worktree(self, run_id: int) -> Path: ...

    async def summary(self, run_id: int) -> str | None:
        """What the run's agent reported when it finished (its final summary)."""
        ...

    async def adopt(
        self,
        *,
        title: str,
        prompt: str,
        initiative_id: int,
        worktree: Path,
        branch: str,
        base_snapshot_id: int,
    ) -> Run:
        """A completed run for work done elsewhere (an initiative's result), so review can
        propose and apply it like any run's."""
        ...


class Conversation(Protocol):
    async def complete(self, messages: list[Message], tools: list[ToolSpec]) -> Turn: ...


class Models(Protocol):
    """Model turns with the initiative's provider, outside any run (an agent answering
    another's question, a chat reply)."""

    def open(
        self, provider: str, model: str | None
    ) -> contextlib.AbstractAsyncContextManager[Conversation]:
        """A conversation with the provider (one for all the turns of a reply); Unavailable
        when the provider cannot take one (an autonomous agent)."""
        ...


class ResultReview(Protocol):
    """How an initiative's result reaches the user's files (implemented by review)."""

    async def propose(self, run: Run, base_commit: str, paths: list[str]) -> list[int]:
        """Propose the run's changes of ``paths`` against ``base_commit``; the ids of the
        proposed changes."""
        ...

    async def approve(self, run_id: int) -> ChangeDecisionResult:
        """Apply every proposed change of the run behind one pre_apply snapshot."""
        ...


@dataclass(frozen=True)
class FactoryContext:
    store: Store
    project_id: int
    settings: Settings
    root: Path
    worktrees: Path
    """Where worktrees live (``.devfactory/worktrees``)."""
    events: EventBus
    notify: Notify
    spawn: Spawn
    repo: WorkspaceRepository
    snapshots: SnapshotService
    runs: RunLauncher
    models: Models
    review: ResultReview | None = None
