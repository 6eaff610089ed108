"""The factory's ports over the daemon's own services: runs through the run manager, the
result through review, one model turn through the provider registry."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devfactory.protocol.changes import ChangeDecisionParams, ChangeDecisionResult
from devfactory.protocol.enums import RUN_CONTROLS, EventType, ExecutionMode, RunControl
from devfactory.protocol.runs import Run, RunCreateParams, RunMetadata

from ..agents.providers.base import Message, ProviderUnavailable, ToolSpec, Turn
from .context import Launch

if TYPE_CHECKING:
    from devfactory.protocol.settings import Settings
    from devfactory.storage import Store

    from ..agents.loop import ExtraTools
    from ..review.service import ReviewService
    from ..runs.manager import RunManager


class ManagedRuns:
    """``RunLauncher`` over the run manager."""

    def __init__(self, manager: RunManager) -> None:
        self.manager = manager

    async def launch(self, launch: Launch) -> Run:
        params = RunCreateParams(
            prompt=launch.prompt,
            title=launch.title,
            agent=launch.agent,
            provider=launch.provider,
            model=launch.model,
            mode=ExecutionMode.REVIEW,
            rag=launch.rag,
            start=False,
        )
        metadata = RunMetadata(
            initiative_id=launch.initiative_id, base_commit=launch.base_commit, proposes=False
        )
        run = await self.manager.create(params, metadata=metadata)
        if launch.tools is not None:
            self.attach(run.id, launch.tools)
        if launch.prepare is not None:
            assert run.branch_name is not None
            worktree = await self.manager.context.worktrees.create(
                run.id, run.branch_name, launch.base_commit, owner=run.created_at
            )
            await launch.prepare(worktree)
        return await self.manager.start(run.id)

    def attach(self, run_id: int, tools: ExtraTools) -> None:
        self.manager.run_tools[run_id] = tools

    async def get(self, run_id: int) -> Run:
        return await self.manager.get(run_id)

    async def cancel(self, run_id: int) -> None:
        run = await self.manager.get(run_id)
        if RunControl.CANCEL in RUN_CONTROLS[run.status]:
            await self.manager.cancel(run_id)

    def worktree(self, run_id: int) -> Path:
        return self.manager.context.worktrees.path_for(run_id)

    async def summary(self, run_id: int) -> str | None:
        run = await self.manager.get(run_id)
        events = await self.manager.store.events.list(run.project_id, run_id=run_id, limit=100_000)
        last = next((e for e in reversed(events) if e.type is EventType.FINAL_SUMMARY), None)
        return None if last is None else str(last.payload.get("summary", ""))

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
        return await self.manager.adopt(
            title=title,
            prompt=prompt,
            worktree=str(worktree),
            branch=branch,
            base_snapshot_id=base_snapshot_id,
            metadata=RunMetadata(initiative_id=initiative_id, rag=False),
        )


class ReviewedResult:
    """``ResultReview`` over the review service."""

    def __init__(self, review: ReviewService) -> None:
        self.review = review

    async def propose(self, run: Run, base_commit: str, paths: list[str]) -> list[int]:
        proposed = [await self.review.propose(run, base_commit, path) for path in paths]
        return [change.id for change in proposed if change is not None]

    async def approve(self, run_id: int) -> ChangeDecisionResult:
        return await self.review.approve(ChangeDecisionParams(run_id=run_id))


class ProviderModels:
    """``Models`` over the provider registry: turns outside any run."""

    def __init__(self, settings: Settings, workspace: Path, store: Store) -> None:
        self.settings = settings
        self.workspace = workspace
        self.store = store

    @contextlib.asynccontextmanager
    async def open(self, provider: str, model: str | None) -> AsyncIterator[ChatTurns]:
        from ..agents.providers.registry import create_provider

        chat: Any = create_provider(
            provider, self.settings, model=model, workspace=self.workspace, store=self.store
        )
        if not hasattr(chat, "complete"):
            raise ProviderUnavailable(f"{provider} runs whole tasks; it cannot answer one turn")
        try:
            yield ChatTurns(chat)
        finally:
            if hasattr(chat, "aclose"):
                with contextlib.suppress(Exception):
                    await chat.aclose()


class ChatTurns:
    def __init__(self, chat: Any) -> None:
        self.chat = chat

    async def complete(self, messages: list[Message], tools: list[ToolSpec]) -> Turn:
        turn: Turn = await self.chat.complete(messages, tools, lambda _: None)
        return turn
