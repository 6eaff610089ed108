"""Editing an initiative's plan by hand (``devfactory/phases/create|update``,
``devfactory/tasks/create|update``) and through accepted proposals.

Every edit is checked before anything is written, and a refusal names the field and the fix:
an unknown dependency, a cycle (named), a task moved into a completed phase or out of a phase
once it started, an edit to an archived initiative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devfactory.protocol.enums import InitiativeStatus, PhaseStatus, TaskStatus
from devfactory.protocol.initiatives import Initiative, Phase, PhaseCreateParams, PhaseUpdateParams
from devfactory.protocol.tasks import Task, TaskCreateParams, TaskUpdateParams
from devfactory.storage.ports import NewPhase, NewTask

from ..errors import InvalidParams, InvalidState
from .model.graph import GraphError, check_edges, check_known
from .records import FactoryRecords

MAX_TITLE = 200
FINISHED = (InitiativeStatus.COMPLETED, InitiativeStatus.ARCHIVED)


class PlanEditor:
    def __init__(self, records: FactoryRecords) -> None:
        self.records = records
        self.store = records.store

    async def editable(self, initiative_id: int) -> Initiative:
        initiative = await self.records.initiative(initiative_id)
        if initiative.status in FINISHED:
            raise InvalidState(
                f"initiative {initiative.id} is {initiative.status.value}; its plan no longer "
                "changes (start a new initiative)"
            )
        return initiative

    async def _reopen(self, initiative: Initiative) -> None:
        """New work makes an initiative whose result waits for review active again."""
        if initiative.status is InitiativeStatus.PENDING_REVIEW:
            await self.records.initiative_status(
                initiative, InitiativeStatus.ACTIVE, "new work was planned", result_run_id=None
            )

    # -- phases --------------------------------------------------------------------------------

    async def create_phase(self, params: PhaseCreateParams) -> Phase:
        initiative = await self.editable(params.initiative_id)
        name = _title("name", params.name)
        phases = await self.store.initiatives.phases(initiative.id)
        _graph(lambda: check_known("dependsOn", params.depends_on, {p.id for p in phases}, "phase"))
        await self._reopen(initiative)
        return await self.records.create_phase(
            NewPhase(
                initiative_id=initiative.id,
                name=name,
                description=params.description,
                depends_on=list(dict.fromkeys(params.depends_on)),
            )
        )

    async def update_phase(self, params: PhaseUpdateParams) -> Phase:
        phase = await self.records.phase(params.phase_id)
        await self.editable(phase.initiative_id)
        fields: dict[str, Any] = {}
        if params.name is not None:
            fields["name"] = _title("name", params.name)
        if params.description is not None:
            fields["description"] = params.description
        if params.depends_on is not None:
            phases = {p.id: p for p in await self.store.initiatives.phases(phase.initiative_id)}

            def check() -> None:
                check_known("dependsOn", params.depends_on or [], phases.keys(), "phase")
                check_edges(
                    phase.id, params.depends_on or [], lambda n: phases[n].depends_on, "phase"
                )

            _graph(check)
            fields["depends_on"] = list(dict.fromkeys(params.depends_on))
        return await self.records.update_phase(phase, **fields)

    # -- tasks ---------------------------------------------------------------------------------

    async def create_task(self, params: TaskCreateParams) -> Task:
        phase = await self._open_phase("phaseId", params.phase_id)
        initiative = await self.editable(phase.initiative_id)
        tasks = {t.id: t for t in await self.store.tasks.list(initiative.id)}
        _graph(lambda: check_known("dependsOn", params.depends_on, tasks.keys()))
        if params.parent_id is not None and params.parent_id not in tasks:
            raise InvalidParams(
                f"parentId: no task {params.parent_id} in initiative {initiative.id}"
            )
        await self._reopen(initiative)
        return await self.records.create_task(
            NewTask(
                initiative_id=initiative.id,
                phase_id=phase.id,
                title=_title("title", params.title),
                description=params.description,
                agent=params.agent,
                parent_id=params.parent_id,
                type=params.type,
                category=params.category,
                priority=params.priority,
                depends_on=list(dict.fromkeys(params.depends_on)),
            )
        )

    async def update_task(self, params: TaskUpdateParams) -> Task:
        task = await self.records.task(params.task_id)
        await self.editable(task.initiative_id)
        fields: dict[str, Any] = {}
        if params.title is not None:
            fields["title"] = _title("title", params.title)
        for name in ("description", "priority", "agent"):
            if (value := getattr(params, name)) is not None:
                fields[name] = value
        if params.phase_id is not None and params.phase_id != task.phase_id:
            target = await self._open_phase("phaseId", params.phase_id)
            if target.initiative_id != task.initiative_id:
                raise InvalidParams(
                    f"phaseId: phase {target.id} belongs to another initiative; move the task "
                    f"within initiative {task.initiative_id}"
                )
            if task.status not in (TaskStatus.PENDING, TaskStatus.FAILED):
                raise InvalidState(
                    f"task {task.id} is {task.status.value}; only a pending or failed task "
                    "moves to another phase"
                )
            fields["phase_id"] = target.id
        if params.depends_on is not None:
            tasks = {t.id: t for t in await self.store.tasks.list(task.initiative_id)}

            def check() -> None:
                check_known("dependsOn", params.depends_on or [], tasks.keys())
                check_edges(task.id, params.depends_on or [], lambda n: tasks[n].depends_on)

            _graph(check)
            fields["depends_on"] = list(dict.fromkeys(params.depends_on))
        if not fields:
            return task
        # Only while it has not started (or is to be retried) do its plan fields change.
        return await self.records.update_task(task, **fields)

    async def _open_phase(self, field: str, phase_id: int) -> Phase:
        phase = await self.store.initiatives.get_phase(phase_id)
        if phase is None:
            raise InvalidParams(f"{field}: no phase {phase_id}; name a phase of the initiative")
        await self.records.initiative(phase.initiative_id)
        if phase.status is PhaseStatus.COMPLETED:
            raise InvalidParams(
                f"{field}: phase {phase.id} ({phase.name}) is completed; put the task in a phase "
                "that is not, or create a new phase"
            )
        return phase


def _title(field: str, text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidParams(f"{field} must not be empty")
    if len(cleaned) > MAX_TITLE:
        raise InvalidParams(f"{field} is {len(cleaned)} characters; the limit is {MAX_TITLE}")
    return cleaned


def _graph(check: Callable[[], None]) -> None:
    """Run a graph check; its refusal becomes invalid params naming the field."""
    try:
        check()
    except GraphError as exc:
        raise InvalidParams(str(exc)) from None
