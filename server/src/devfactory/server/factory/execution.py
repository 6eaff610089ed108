"""Executing tasks: a ready task becomes a run (or, at a checkpoint, a question to the user),
and a finished run's work is committed on its branch and merged into the initiative's
integration branch — or, on a conflict, handed to a merge task.

A task's run starts on its own branch off the integration branch's head, which already holds
the merged work of every task it depends on; its prompt carries the task, the initiative's
goal, the handoffs and its dependencies' summaries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from devfactory.protocol.enums import (
    AgentRole,
    EventType,
    PhaseStatus,
    RunStatus,
    Severity,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from devfactory.protocol.factory_events import MergeEvent, TaskCheckpoint
from devfactory.protocol.initiatives import Initiative, Phase
from devfactory.protocol.runs import Run
from devfactory.protocol.tasks import Checkpoint, Task
from devfactory.storage.ports import InitiativeRun, NewTask

from ..workspace.worktrees import commit_worktree
from . import prompts
from .context import FactoryContext, Launch
from .handoffs import SCHEMAS
from .merging import IntegrationBranch, begin_merge
from .records import FactoryRecords

if TYPE_CHECKING:
    from ..agents.loop import ExtraTools

log = logging.getLogger(__name__)

HANDOFF_OF = {role: schema.name for schema in SCHEMAS.values() for role in schema.roles}
"""The handoff each planning role must produce (analyst: software_specification...)."""

ToolsFor = Callable[[Initiative, Task], "ExtraTools | None"]
Prepare = Callable[[Path], Awaitable[None]]


class TaskExecution:
    def __init__(self, context: FactoryContext, records: FactoryRecords) -> None:
        self.context = context
        self.records = records
        self.store = context.store
        self.launched: set[int] = set()
        """Runs this daemon started for tasks: it acts on their ends."""
        self.tools_for: ToolsFor | None = None
        """Set by the factory: the tools a task's run gets on top of its role's."""

    def integration(self, initiative: Initiative) -> IntegrationBranch:
        path = self.context.worktrees / f"initiative-{initiative.id}"
        return IntegrationBranch(self.context.repo, path, initiative.branch)

    # -- starting ------------------------------------------------------------------------------

    async def start(self, initiative: Initiative, phase: Phase, task: Task) -> None:
        integration = self.integration(initiative)
        if phase.status is PhaseStatus.APPROVED:
            phase = await self.records.phase_status(
                phase, PhaseStatus.IN_PROGRESS, base_commit=await integration.head()
            )
        if task.type.is_checkpoint:
            await self._ask(initiative, task)
            return
        launch = Launch(
            title=f"Task {task.id}: {task.title}",
            prompt=await self._prompt(initiative, phase, task),
            agent=task.agent,
            initiative_id=initiative.id,
            base_commit=await integration.head(),
            provider=initiative.provider,
            model=initiative.model,
            tools=None if self.tools_for is None else self.tools_for(initiative, task),
            prepare=await self._preparation(task),
        )
        try:
            run = await self.context.runs.launch(launch)
        except Exception as exc:
            log.exception("task %d: its run could not start", task.id)
            await self.records.task_status(task, TaskStatus.FAILED, f"its run did not start: {exc}")
            return
        self.launched.add(run.id)
        await self.store.tasks.add_run(
            InitiativeRun(run_id=run.id, initiative_id=initiative.id, task_id=task.id)
        )
        # Under the factory lock nothing else starts it: its status shows its run at once.
        await self.records.task_status(await self.records.task(task.id), TaskStatus.IN_PROGRESS)

    async def _prompt(self, initiative: Initiative, phase: Phase, task: Task) -> str:
        artifacts = await self.store.proposals.artifacts(initiative.id)
        if task.agent is AgentRole.ANALYST and task.category is TaskCategory.PLAN:
            return prompts.analyst_prompt(initiative)
        if task.agent is AgentRole.ARCHITECT and task.category is TaskCategory.PLAN:
            return prompts.architect_prompt(initiative, artifacts)
        dependencies = [await self.records.task(d) for d in task.depends_on]
        return prompts.task_prompt(
            initiative=initiative,
            phase=phase,
            task=task,
            artifacts=artifacts,
            dependencies=dependencies,
        )

    async def _preparation(self, task: Task) -> Prepare | None:
        """A merge task's worktree begins the merge it resolves."""
        if task.category is not TaskCategory.MERGE or task.parent_id is None:
            return None
        branch = await self._branch_of(await self.records.task(task.parent_id))
        if branch is None:
            return None
        repo = self.context.repo

        async def prepare(worktree: Path) -> None:
            await begin_merge(repo, worktree, branch)

        return prepare

    async def _ask(self, initiative: Initiative, task: Task) -> None:
        question, choices = checkpoint_question(task)
        for dep in task.depends_on:
            done = await self.records.task(dep)
            question += f"\n- Task {done.id} ({done.title}): {done.summary or 'done'}"
        task = await self.records.task_status(
            task,
            TaskStatus.BLOCKED,
            "waits for you",
            checkpoint=Checkpoint(question=question, choices=choices),
        )
        await self.context.events.emit(
            None,
            EventType.TASK_CHECKPOINT,
            f"Question: {task.title}",
            TaskCheckpoint(
                initiative_id=initiative.id, task_id=task.id, question=question, choices=choices
            ),
            message=question,
            severity=Severity.WARNING,
        )

    # -- finishing -----------------------------------------------------------------------------

    async def finish(
        self, initiative: Initiative, task: Task, run: Run, *, interrupted: bool
    ) -> Task:
        """Act on the end of a task's run; returns the task as it is now."""
        if task.status is not TaskStatus.IN_PROGRESS or (
            task.run_ids and task.run_ids[-1] != run.id
        ):
            return task  # acted on already (a crash after the merge, before "handled")
        if run.status is not RunStatus.COMPLETED:
            if interrupted:
                return await self.records.task_status(
                    task, TaskStatus.PENDING, "its run stopped with the daemon; it starts again"
                )
            reason = run.failed_reason or f"its run was {run.status.value}"
            return await self.records.task_status(task, TaskStatus.FAILED, reason)
        summary = await self.context.runs.summary(run.id) or ""
        needed = HANDOFF_OF.get(task.agent) if task.category is TaskCategory.PLAN else None
        if needed and not await self._handed_off(initiative, run.id, needed):
            return await self.records.task_status(
                task, TaskStatus.FAILED, f"it finished without a valid {needed} handoff"
            )
        worktree = self.context.runs.worktree(run.id)
        await commit_worktree(
            self.context.repo, worktree, f"{task.title}\n\n{summary}\n\nDevFactory task {task.id}"
        )
        branch = run.branch_name or ""
        outcome = await self.integration(initiative).merge(
            branch, f"Merge task {task.id}: {task.title}"
        )
        if outcome.conflicts:
            return await self._conflict(initiative, task, branch, outcome.conflicts, summary)
        await self._merged(initiative, task, branch, outcome.commit)
        done = await self.records.task_status(
            task, TaskStatus.COMPLETED, summary=summary, merged_commit=outcome.commit
        )
        if task.category is TaskCategory.MERGE and task.parent_id is not None:
            parent = await self.records.task(task.parent_id)
            if parent.status is TaskStatus.BLOCKED:
                await self.records.task_status(
                    parent,
                    TaskStatus.COMPLETED,
                    "merged by its merge task",
                    merged_commit=outcome.commit,
                )
        return done

    async def _handed_off(self, initiative: Initiative, run_id: int, name: str) -> bool:
        return any(
            a.run_id == run_id for a in await self.store.proposals.artifacts(initiative.id, name)
        )

    async def _merged(
        self, initiative: Initiative, task: Task, branch: str, commit: str | None
    ) -> None:
        await self.context.events.emit(
            None,
            EventType.MERGE_COMPLETED,
            f"Merged task {task.id}",
            MergeEvent(initiative_id=initiative.id, task_id=task.id, branch=branch, commit=commit),
            message=f"{branch} into {initiative.branch}",
        )

    async def _conflict(
        self, initiative: Initiative, task: Task, branch: str, conflicts: list[str], summary: str
    ) -> Task:
        files = ", ".join(conflicts)
        fixer = await self.records.create_task(
            NewTask(
                initiative_id=initiative.id,
                phase_id=task.phase_id,
                parent_id=task.id,
                title=f"Merge task {task.id}: {task.title}",
                description=(
                    f"Merging {branch} into {initiative.branch} conflicts in {files}. Your "
                    "worktree has the merge begun with the conflict markers in those files: "
                    "resolve them, keeping both sides' intent, and finish."
                ),
                agent=task.agent,
                category=TaskCategory.MERGE,
                priority=TaskPriority.HIGH,
            )
        )
        await self.context.events.emit(
            None,
            EventType.MERGE_CONFLICT,
            f"Merge conflict: task {task.id}",
            MergeEvent(
                initiative_id=initiative.id,
                task_id=task.id,
                branch=branch,
                conflicts=conflicts,
                merge_task_id=fixer.id,
            ),
            message=f"{files}: merge task {fixer.id} resolves it",
            severity=Severity.WARNING,
        )
        return await self.records.task_status(
            task,
            TaskStatus.BLOCKED,
            f"its merge conflicts in {files}; merge task {fixer.id} resolves it",
            summary=summary,
        )

    async def _branch_of(self, task: Task) -> str | None:
        if not task.run_ids:
            return None
        run = await self.context.runs.get(task.run_ids[-1])
        return run.branch_name


def checkpoint_question(task: Task) -> tuple[str, list[str]]:
    """What a checkpoint task asks, and the answers it offers. A decision's choices are the
    bulleted lines of its description."""
    lines = task.description.splitlines()
    if task.type is TaskType.CHECKPOINT_DECISION:
        choices = [
            line.strip()[2:].strip() for line in lines if line.strip().startswith(("- ", "* "))
        ]
        text = "\n".join(line for line in lines if not line.strip().startswith(("- ", "* ")))
        return f"Decide: {task.title}\n{text}".strip(), choices
    if task.type is TaskType.CHECKPOINT_HUMAN_ACTION:
        return f"Please do: {task.title}\n{task.description}".strip(), ["done"]
    return f"Verify: {task.title}\n{task.description}".strip(), ["approve", "reject"]
