"""``FactoryRecords``: the one choke point for every change to an initiative, phase or task.

Each change checks the status tables (``model/transitions.py``), writes the record and the
event that records it in one transaction (compare-and-set on the status, so two daemons never
both move a task), delivers the event in order with every other event, tells listeners (the
orchestrator's ready sets) and notifies clients with ``devfactory/initiativeChanged``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from devfactory.protocol.enums import (
    EventType,
    InitiativeStatus,
    PhaseStatus,
    Severity,
    TaskStatus,
)
from devfactory.protocol.events import Event, Payload
from devfactory.protocol.factory_events import InitiativeEvent, PhaseEvent, TaskEvent
from devfactory.protocol.initiatives import Initiative, InitiativeChangedNotification, Phase
from devfactory.protocol.methods import Notifications
from devfactory.protocol.tasks import Task
from devfactory.storage.ports import NewInitiative, NewPhase, NewTask

from ..errors import InvalidState, NotFound
from .context import FactoryContext
from .model import transitions

log = logging.getLogger(__name__)
R = TypeVar("R")
Listener = Callable[[Initiative, list[Phase], list[Task]], None]

_SEVERITY = {
    TaskStatus.FAILED: Severity.ERROR,
    TaskStatus.COMPLETED: Severity.SUCCESS,
    TaskStatus.BLOCKED: Severity.WARNING,
    PhaseStatus.PENDING_REVIEW: Severity.WARNING,
    PhaseStatus.COMPLETED: Severity.SUCCESS,
    InitiativeStatus.PENDING_REVIEW: Severity.WARNING,
    InitiativeStatus.COMPLETED: Severity.SUCCESS,
}


def words(status: Any) -> str:
    return str(status.value).replace("_", " ")


class FactoryRecords:
    def __init__(self, context: FactoryContext) -> None:
        self.context = context
        self.store = context.store
        self.listeners: list[Listener] = []
        """Told of every changed record (after it is committed), e.g. the ready sets."""

    # -- reads (NotFound for another project's records) ----------------------------------------

    async def initiative(self, initiative_id: int) -> Initiative:
        found = await self.store.initiatives.get(initiative_id)
        if found is None or found.project_id != self.context.project_id:
            raise NotFound("initiative", initiative_id)
        return found

    async def phase(self, phase_id: int) -> Phase:
        found = await self.store.initiatives.get_phase(phase_id)
        if found is None:
            raise NotFound("phase", phase_id)
        await self.initiative(found.initiative_id)
        return found

    async def task(self, task_id: int) -> Task:
        found = await self.store.tasks.get(task_id)
        if found is None:
            raise NotFound("task", task_id)
        await self.initiative(found.initiative_id)
        return found

    # -- creations -----------------------------------------------------------------------------

    async def create_initiative(self, new: NewInitiative) -> Initiative:
        def event(record: Initiative) -> Any:
            payload = InitiativeEvent(
                initiative_id=record.id, name=record.name, status=record.status
            )
            return self._event(EventType.INITIATIVE_CREATED, f"Initiative {record.name}", payload)

        created = await self.record_new(lambda: self.store.initiatives.create(new, event))
        self._changed(created)
        return created

    async def create_phase(self, new: NewPhase) -> Phase:
        def event(record: Phase) -> Any:
            payload = _phase_payload(record, None, None)
            return self._event(EventType.PHASE_CREATED, f"Phase {record.name}", payload)

        created = await self.record_new(lambda: self.store.initiatives.create_phase(new, event))
        self._changed(await self.initiative(created.initiative_id), phases=[created])
        return created

    async def create_task(self, new: NewTask) -> Task:
        def event(record: Task) -> Any:
            payload = _task_payload(record, None, None)
            return self._event(EventType.TASK_CREATED, f"Task {record.title}", payload)

        created = await self.record_new(lambda: self.store.tasks.create(new, event))
        self._changed(await self.initiative(created.initiative_id), tasks=[created])
        return created

    # -- status changes: the table, the compare-and-set, the event -----------------------------

    async def initiative_status(
        self, record: Initiative, target: InitiativeStatus, reason: str | None = None, **fields: Any
    ) -> Initiative:
        _check(transitions.INITIATIVE, "initiative", record.id, record.status, target)

        def event(updated: Initiative) -> Any:
            payload = InitiativeEvent(
                initiative_id=updated.id,
                name=updated.name,
                status=target,
                from_status=record.status,
                reason=reason,
            )
            title = f"Initiative {words(target)}"
            return self._event(EventType.INITIATIVE_STATUS_CHANGED, title, payload, reason, target)

        updated = await self.record_change(
            self.store.initiatives.update(
                record.id, expect_status=record.status, event=event, status=target, **fields
            ),
            f"initiative {record.id}",
        )
        self._changed(updated)
        return updated

    async def phase_status(
        self, record: Phase, target: PhaseStatus, reason: str | None = None, **fields: Any
    ) -> Phase:
        _check(transitions.PHASE, "phase", record.id, record.status, target)

        def event(updated: Phase) -> Any:
            payload = _phase_payload(updated, record.status, reason)
            title = f"Phase {updated.name}: {words(target)}"
            return self._event(EventType.PHASE_STATUS_CHANGED, title, payload, reason, target)

        updated = await self.record_change(
            self.store.initiatives.update_phase(
                record.id, expect_status=record.status, event=event, status=target, **fields
            ),
            f"phase {record.id}",
        )
        self._changed(await self.initiative(updated.initiative_id), phases=[updated])
        return updated

    async def task_status(
        self, record: Task, target: TaskStatus, reason: str | None = None, **fields: Any
    ) -> Task:
        _check(transitions.TASK, "task", record.id, record.status, target)
        if target is TaskStatus.FAILED:
            fields.setdefault("failed_reason", reason)

        def event(updated: Task) -> Any:
            payload = _task_payload(updated, record.status, reason)
            title = f"Task {updated.title}: {words(target)}"
            return self._event(EventType.TASK_STATUS_CHANGED, title, payload, reason, target)

        updated = await self.record_change(
            self.store.tasks.update(
                record.id, expect_status=record.status, event=event, status=target, **fields
            ),
            f"task {record.id}",
        )
        self._changed(await self.initiative(updated.initiative_id), tasks=[updated])
        return updated

    # -- edits (no status change) --------------------------------------------------------------

    async def update_phase(self, record: Phase, **fields: Any) -> Phase:
        def event(updated: Phase) -> Any:
            payload = _phase_payload(updated, None, None)
            return self._event(EventType.PHASE_UPDATED, f"Phase {updated.name} edited", payload)

        updated = await self.record_change(
            self.store.initiatives.update_phase(record.id, event=event, **fields),
            f"phase {record.id}",
        )
        self._changed(await self.initiative(updated.initiative_id), phases=[updated])
        return updated

    async def update_task(
        self, record: Task, *, expect: TaskStatus | None = None, **fields: Any
    ) -> Task:
        def event(updated: Task) -> Any:
            payload = _task_payload(updated, None, None)
            return self._event(EventType.TASK_UPDATED, f"Task {updated.title} edited", payload)

        updated = await self.record_change(
            self.store.tasks.update(record.id, expect_status=expect, event=event, **fields),
            f"task {record.id}",
        )
        self._changed(await self.initiative(updated.initiative_id), tasks=[updated])
        return updated

    async def notify_initiative(self, initiative_id: int) -> Initiative:
        """Tell clients about an initiative's own fields (no event: nothing happened)."""
        record = await self.initiative(initiative_id)
        self._changed(record)
        return record

    # -- internals -----------------------------------------------------------------------------

    def _event(
        self,
        type: EventType,
        title: str,
        payload: Payload,
        reason: str | None = None,
        status: Any = None,
    ) -> Any:
        return self.context.events.new_event(
            None, type, title, payload, message=reason or "", severity=_SEVERITY.get(status)
        )

    async def record_new(self, write: Callable[[], Awaitable[tuple[R, Event | None]]]) -> R:
        """Commit a new record with its event, delivered in order with every other event."""

        async def recorded() -> tuple[R, Event] | None:
            record, event = await write()
            assert event is not None
            return record, event

        written = await self.context.events.record(recorded)
        assert written is not None
        return written[0]

    async def record_change(self, write: Awaitable[tuple[R, Event | None] | None], what: str) -> R:
        """Commit a compare-and-set change with its event; InvalidState when ``what`` changed
        meanwhile."""

        async def recorded() -> tuple[R, Event] | None:
            found = await write
            if found is None:
                return None
            record, event = found
            assert event is not None
            return record, event

        written = await self.context.events.record(recorded)
        if written is None:
            raise InvalidState(f"{what} changed meanwhile; try again")
        return written[0]

    def _changed(
        self,
        initiative: Initiative,
        phases: list[Phase] | None = None,
        tasks: list[Task] | None = None,
    ) -> None:
        phases, tasks = phases or [], tasks or []
        for listener in list(self.listeners):
            try:
                listener(initiative, phases, tasks)
            except Exception:
                log.exception("initiative listener %r failed", listener)
        self.context.notify(
            Notifications.INITIATIVE_CHANGED,
            InitiativeChangedNotification(initiative=initiative, phases=phases, tasks=tasks),
        )


def _check(
    table: dict[Any, frozenset[Any]], noun: str, ident: int, current: Any, target: Any
) -> None:
    if not transitions.allowed(table, current, target):
        raise InvalidState(f"{noun} {ident} is {words(current)}; it cannot become {words(target)}")


def _phase_payload(phase: Phase, before: PhaseStatus | None, reason: str | None) -> PhaseEvent:
    return PhaseEvent(
        initiative_id=phase.initiative_id,
        phase_id=phase.id,
        name=phase.name,
        status=phase.status,
        from_status=before,
        reason=reason,
    )


def _task_payload(task: Task, before: TaskStatus | None, reason: str | None) -> TaskEvent:
    return TaskEvent(
        initiative_id=task.initiative_id,
        task_id=task.id,
        phase_id=task.phase_id,
        title=task.title,
        status=task.status,
        from_status=before,
        reason=reason,
        task_run_id=task.run_ids[-1] if task.run_ids else None,
    )
