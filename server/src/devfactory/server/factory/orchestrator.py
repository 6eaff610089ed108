"""``Orchestrator``: keeps every active initiative moving.

It mirrors each initiative's phases and tasks in a ``ReadySet`` (fed by the records' change
listener), starts the ready tasks up to ``max_concurrent_runs`` (phase order, priority, task
order), acts on the end of each run it launched (merge, summary, merge task), moves phases
on when their tasks are done (to review, or completed in yolo), and on start-up picks up
what a daemon that died left: finished runs are merged (once), interrupted tasks start again.

All of it is serialized by one lock (shared with the other daemons of the workspace): two run
ends never merge at once, and a decision always sees the statuses the last one wrote.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from devfactory.protocol.enums import (
    EventType,
    InitiativeMode,
    InitiativeStatus,
    PhaseStatus,
    ProposalStatus,
    RunStatus,
    TaskStatus,
)
from devfactory.protocol.events import Event
from devfactory.protocol.initiatives import Initiative, Phase
from devfactory.protocol.tasks import Task

from ..workspace.lock import WorkspaceLock
from .context import FactoryContext
from .execution import TaskExecution
from .records import FactoryRecords
from .scheduler import ReadySet

log = logging.getLogger(__name__)
LIVE = (InitiativeStatus.ACTIVE, InitiativeStatus.PENDING_REVIEW)


class Orchestrator:
    def __init__(
        self, context: FactoryContext, records: FactoryRecords, execution: TaskExecution
    ) -> None:
        self.context = context
        self.records = records
        self.execution = execution
        self.store = context.store
        self.ready: dict[int, ReadySet] = {}
        """initiative id -> its ready set (live initiatives only)."""
        self._changes: dict[int, int] = {}
        """initiative id -> how many changes were mirrored (or skipped): a load that saw one
        happen while it read the store reads again."""
        self._lock = WorkspaceLock(context.worktrees.parent / "factory.lock")
        """One decision at a time, in this daemon and across the daemons of the workspace
        (an editor's and a CLI's): a run's end is acted on once, a task started once."""
        self.phases_done: Callable[[Initiative], Awaitable[None]] | None = None
        """Called (locked) when every phase of an initiative is completed."""
        self.stopping = False
        records.listeners.append(self._mirror)

    def locked(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._lock.hold()

    # -- mirroring -----------------------------------------------------------------------------

    async def load(self, initiative_id: int) -> ReadySet:
        """The initiative's ready set, read from the store on first use. The tasks are read
        before the phases, so every task's phase is there; a change made while they are read
        (a phase and its task created in between) is mirrored nowhere, so such a read is
        thrown away and done again."""
        while (ready := self.ready.get(initiative_id)) is None:
            seen = self._changes.get(initiative_id, 0)
            tasks = await self.store.tasks.list(initiative_id)
            read = ReadySet()
            for phase in await self.store.initiatives.phases(initiative_id):
                read.add_phase(phase.id, phase.position, phase.status, phase.depends_on)
            for task in tasks:
                _add(read, task)
            if self._changes.get(initiative_id, 0) == seen and initiative_id not in self.ready:
                self.ready[initiative_id] = read
        return ready

    def _mirror(self, initiative: Initiative, phases: list[Phase], tasks: list[Task]) -> None:
        self._changes[initiative.id] = self._changes.get(initiative.id, 0) + 1
        if initiative.status not in LIVE:
            self.ready.pop(initiative.id, None)
            return
        ready = self.ready.get(initiative.id)
        if ready is None:
            return  # loaded on first use, from the store
        for phase in phases:
            ready.add_phase(phase.id, phase.position, phase.status, phase.depends_on)
        for task in tasks:
            _add(ready, task)

    # -- scheduling ----------------------------------------------------------------------------

    def kick(self) -> None:
        """Schedule soon, in the background (after a request changed the plan)."""
        if not self.stopping:
            self.context.spawn(self.schedule(), name="factory-schedule")

    async def schedule(self) -> None:
        async with self.locked():
            await self.schedule_locked()

    async def schedule_locked(self) -> None:
        if self.stopping:
            return
        for initiative in await self.store.initiatives.list(
            self.context.project_id, [InitiativeStatus.ACTIVE], limit=1000
        ):
            await self.load(initiative.id)
        free = self.context.settings.max_concurrent_runs - sum(
            len(r.running) for r in self.ready.values()
        )
        for initiative_id in sorted(self.ready):
            ready = self.ready.get(initiative_id)
            if ready is None:
                continue
            initiative = await self.records.initiative(initiative_id)
            if initiative.status is not InitiativeStatus.ACTIVE:
                continue
            while (task_id := ready.take()) is not None:
                task = await self.records.task(task_id)
                if not task.type.is_checkpoint and free <= 0:
                    ready.set_task_status(task_id, task.status)  # offered again later
                    break
                phase = await self.records.phase(task.phase_id)
                try:
                    await self.execution.start(initiative, phase, task)
                except Exception:
                    log.exception("task %d could not start", task_id)
                    continue
                if not task.type.is_checkpoint:
                    free -= 1

    # -- run ends ------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """A run this daemon launched for an initiative ended: act on it."""
        if (
            event.type is not EventType.RUN_STATUS_CHANGED
            or event.run_id not in self.execution.launched
        ):
            return
        if RunStatus(str(event.payload.get("toStatus"))).is_terminal and not self.stopping:
            run_id = event.run_id
            self.context.spawn(self.run_finished(run_id), name=f"factory-run-{run_id}")

    async def run_finished(self, run_id: int, *, interrupted: bool = False) -> None:
        async with self.locked():
            executed = await self.store.tasks.run(run_id)
            if executed is None or executed.handled:
                return
            try:
                await self._task_run_ended(executed.task_id, run_id, interrupted)
            finally:
                await self.store.tasks.mark_handled(run_id)
                self.execution.launched.discard(run_id)
            await self.schedule_locked()

    async def _task_run_ended(self, task_id: int, run_id: int, interrupted: bool) -> None:
        task = await self.records.task(task_id)
        initiative = await self.records.initiative(task.initiative_id)
        run = await self.context.runs.get(run_id)
        task = await self.execution.finish(initiative, task, run, interrupted=interrupted)
        await self.settle(initiative.id)

    async def settle(self, initiative_id: int) -> None:
        """Move phases whose tasks are all completed on (review, or completed), and the
        initiative once every phase is; call with the lock held."""
        ready = await self.load(initiative_id)
        initiative = await self.records.initiative(initiative_id)
        for phase in await self.store.initiatives.phases(initiative_id):
            if phase.status is not PhaseStatus.IN_PROGRESS or not ready.phase_tasks_done(phase.id):
                continue
            if initiative.mode is InitiativeMode.YOLO or not await self._changed(initiative, phase):
                await self.records.phase_status(phase, PhaseStatus.COMPLETED, "its tasks are done")
            else:
                await self.records.phase_status(
                    phase, PhaseStatus.PENDING_REVIEW, "its tasks are done: review its changes"
                )
        phases = await self.store.initiatives.phases(initiative_id)
        everything_done = (
            phases
            and all(p.status is PhaseStatus.COMPLETED for p in phases)
            and not await self.store.proposals.list(initiative_id, ProposalStatus.PENDING)
        )
        live = initiative.status is InitiativeStatus.ACTIVE
        if everything_done and live and self.phases_done is not None:
            await self.phases_done(initiative)

    async def _changed(self, initiative: Initiative, phase: Phase) -> bool:
        """Whether the phase changed any file (a phase that changed nothing has nothing to
        review: planning, or checks that passed)."""
        integration = self.execution.integration(initiative)
        head = await integration.head()
        return bool(phase.base_commit) and bool(
            await integration.changed_files(phase.base_commit or head, head)
        )

    # -- start-up and shutdown -----------------------------------------------------------------

    async def recover(self) -> None:
        """Pick up after a daemon that died: its finished runs are acted on (merged once), the
        tasks whose runs it was driving start again; nothing stays in progress."""
        async with self.locked():
            for executed in await self.store.tasks.unhandled_runs(self.context.project_id):
                run = await self.context.runs.get(executed.run_id)
                if not run.status.is_terminal:  # queued: it runs here, and ends here
                    self.execution.launched.add(run.id)
                    task = await self.records.task(executed.task_id)
                    initiative = await self.records.initiative(task.initiative_id)
                    tools = self.execution.tools_for and self.execution.tools_for(initiative, task)
                    if tools:
                        self.context.runs.attach(run.id, tools)
                    continue
                try:
                    await self._task_run_ended(executed.task_id, run.id, True)
                except Exception:
                    log.exception("recovering run %d of task %d", run.id, executed.task_id)
                await self.store.tasks.mark_handled(run.id)
            for initiative in await self.store.initiatives.list(
                self.context.project_id, LIVE, limit=1000
            ):
                await self._restart_orphans(initiative)
                await self.settle(initiative.id)
            await self.schedule_locked()

    async def _restart_orphans(self, initiative: Initiative) -> None:
        """Tasks in progress with no run that could still end them go back to pending."""
        for task in await self.store.tasks.list(initiative.id):
            if task.status is not TaskStatus.IN_PROGRESS:
                continue
            live = False
            for run_id in task.run_ids[-1:]:
                run = await self.context.runs.get(run_id)
                live = not run.status.is_terminal
            if not live:
                await self.records.task_status(
                    task, TaskStatus.PENDING, "the daemon stopped before its run began"
                )

    async def shutdown(self) -> None:
        self.stopping = True


def _add(ready: ReadySet, task: Task) -> None:
    ready.add_task(
        task.id,
        task.phase_id,
        status=task.status,
        priority=task.priority,
        position=task.position,
        depends_on=task.depends_on,
        type=task.type,
    )
