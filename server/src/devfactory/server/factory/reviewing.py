"""The user's part of the work: phase review (``devfactory/phases/approve|requestChanges|diff|
comment|comments|resolveComment``) and the answers to checkpoints and failures
(``devfactory/tasks/respond|retry``).

Approving a phase under review completes it (the phases that depend on it unblock);
requesting changes turns its open comments into a revision task and sends the phase back to
work. Approving a phase that waits (pending) lets its tasks start.
"""

from __future__ import annotations

from collections import Counter

from devfactory.protocol.enums import (
    HitlAction,
    PhaseStatus,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from devfactory.protocol.initiatives import (
    Phase,
    PhaseComment,
    PhaseCommentParams,
    PhaseCommentsParams,
    PhaseDiff,
    PhaseRequestChangesParams,
)
from devfactory.protocol.tasks import Checkpoint, Task, TaskRespondParams
from devfactory.storage.clock import now_iso
from devfactory.storage.ports import NewTask

from ..errors import InvalidParams, InvalidState, NotFound
from .orchestrator import Orchestrator
from .phase_review import phase_diff, revision_brief
from .records import FactoryRecords

MAX_COMMENT = 10_000
ANSWERS = {
    TaskType.CHECKPOINT_HUMAN_VERIFY: {HitlAction.APPROVE, HitlAction.REJECT},
    TaskType.CHECKPOINT_DECISION: {HitlAction.ANSWER},
    TaskType.CHECKPOINT_HUMAN_ACTION: {HitlAction.APPROVE},
}


class PhaseReview:
    def __init__(self, records: FactoryRecords, orchestrator: Orchestrator) -> None:
        self.records = records
        self.orchestrator = orchestrator
        self.store = records.store

    async def diff(self, phase_id: int) -> PhaseDiff:
        phase = await self.records.phase(phase_id)
        initiative = await self.records.initiative(phase.initiative_id)
        integration = self.orchestrator.execution.integration(initiative)
        return await phase_diff(integration, phase, await integration.head())

    async def comment(self, params: PhaseCommentParams) -> PhaseComment:
        phase = await self.records.phase(params.phase_id)
        body = params.body.strip()
        if not body:
            raise InvalidParams("body must not be empty")
        if len(body) > MAX_COMMENT:
            raise InvalidParams(f"body is {len(body)} characters; the limit is {MAX_COMMENT}")
        if params.line < 1:
            raise InvalidParams(f"line must be 1 or more, got {params.line}")
        files = {f.path for f in (await self.diff(phase.id)).files}
        if params.path not in files:
            shown = ", ".join(sorted(files)) or "none"
            raise InvalidParams(
                f"path: {params.path!r} is not in phase {phase.id}'s changes (changed: {shown})"
            )
        return await self.store.initiatives.add_comment(
            phase.id, params.path, params.line, params.side, body
        )

    async def comments(self, params: PhaseCommentsParams) -> list[PhaseComment]:
        await self.records.phase(params.phase_id)
        return await self.store.initiatives.comments(params.phase_id, params.include_resolved)

    async def resolve(self, comment_id: int) -> PhaseComment:
        comment = await self.store.initiatives.get_comment(comment_id)
        if comment is None:
            raise NotFound("comment", comment_id)
        await self.records.phase(comment.phase_id)
        await self.store.initiatives.resolve_comments([comment.id])
        resolved = await self.store.initiatives.get_comment(comment.id)
        assert resolved is not None
        return resolved

    async def approve(self, phase_id: int) -> Phase:
        async with self.orchestrator.locked():
            phase = await self.records.phase(phase_id)
            if phase.status is PhaseStatus.PENDING:
                approved = await self.records.phase_status(phase, PhaseStatus.APPROVED)
            elif phase.status is PhaseStatus.PENDING_REVIEW:
                approved = await self.records.phase_status(
                    phase, PhaseStatus.COMPLETED, "approved by the user"
                )
            else:
                raise InvalidState(
                    f"phase {phase.id} is {phase.status.value}; approve a pending phase (its plan)"
                    " or one pending review (its work)"
                )
            await self.orchestrator.settle(phase.initiative_id)
            await self.orchestrator.schedule_locked()
        return approved

    async def request_changes(self, params: PhaseRequestChangesParams) -> list[Task]:
        async with self.orchestrator.locked():
            phase = await self.records.phase(params.phase_id)
            if phase.status is not PhaseStatus.PENDING_REVIEW:
                raise InvalidState(
                    f"phase {phase.id} is {phase.status.value}; request changes on a phase "
                    "pending review"
                )
            comments = await self.store.initiatives.comments(phase.id)
            if not comments and not (params.note or "").strip():
                raise InvalidParams(
                    "note: say what to change (or comment on lines of the phase's diff first)"
                )
            tasks = await self.store.tasks.list(phase.initiative_id)
            roles = Counter(t.agent for t in tasks if t.phase_id == phase.id)
            phase = await self.records.phase_status(
                phase,
                PhaseStatus.IN_PROGRESS,
                "changes requested",
                revision=phase.revision + 1,
            )
            revision = await self.records.create_task(
                NewTask(
                    initiative_id=phase.initiative_id,
                    phase_id=phase.id,
                    title=f"Revise {phase.name} (review {phase.revision})",
                    description="Address the review of this phase's changes:\n"
                    + revision_brief(comments, params.note),
                    agent=roles.most_common(1)[0][0] if roles else tasks[0].agent,
                    category=TaskCategory.REFINE,
                    priority=TaskPriority.HIGH,
                )
            )
            await self.store.initiatives.resolve_comments([c.id for c in comments])
            await self.orchestrator.schedule_locked()
        return [revision]

    # -- checkpoints and failures --------------------------------------------------------------

    async def respond(self, params: TaskRespondParams) -> Task:
        async with self.orchestrator.locked():
            task = await self.records.task(params.task_id)
            if not task.type.is_checkpoint or task.checkpoint is None:
                raise InvalidState(f"task {task.id} asks nothing: it is {task.type.value}")
            if task.status is not TaskStatus.BLOCKED or task.checkpoint.action is not None:
                raise InvalidState(f"task {task.id} is {task.status.value}; it waits for no answer")
            allowed = ANSWERS[task.type]
            if params.action not in allowed:
                names = " or ".join(sorted(a.value for a in allowed))
                raise InvalidParams(f"action: {task.type.value} takes {names}")
            text = (params.text or "").strip()
            choices = task.checkpoint.choices
            if task.type is TaskType.CHECKPOINT_DECISION and choices and text not in choices:
                raise InvalidParams(f"text: choose one of {', '.join(choices)}")
            answered = Checkpoint(
                question=task.checkpoint.question,
                choices=choices,
                action=params.action,
                text=text or None,
                answered_at=now_iso(),
            )
            if params.action is HitlAction.REJECT:
                task = await self.records.task_status(
                    task,
                    TaskStatus.FAILED,
                    f"rejected: {text or 'no reason given'}",
                    checkpoint=answered,
                )
            else:
                summary = text or (
                    "done" if task.type is TaskType.CHECKPOINT_HUMAN_ACTION else "approved"
                )
                task = await self.records.task_status(
                    task,
                    TaskStatus.COMPLETED,
                    f"answered: {summary}",
                    checkpoint=answered,
                    summary=summary,
                )
            await self.orchestrator.settle(task.initiative_id)
            await self.orchestrator.schedule_locked()
        return task

    async def retry(self, task_id: int) -> Task:
        async with self.orchestrator.locked():
            task = await self.records.task(task_id)
            if task.status is not TaskStatus.FAILED:
                raise InvalidState(
                    f"task {task.id} is {task.status.value}; only a failed task is retried"
                )
            task = await self.records.task_status(
                task, TaskStatus.PENDING, "retried by the user", checkpoint=None, failed_reason=None
            )
            await self.orchestrator.schedule_locked()
        return task
