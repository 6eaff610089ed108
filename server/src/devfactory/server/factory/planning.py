"""From handoffs to proposals: what the analyst and the architect hand off becomes proposals
the user accepts, edits or dismisses (one page for a specification; one proposal per phase
and per task for a plan). Accepted proposals name each other by ``key`` in their metadata:
a task's ``phase`` and ``dependsOn`` are keys until the proposals they name are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devfactory.protocol.enums import (
    AgentRole,
    ProposalAction,
    ProposalTarget,
    TaskCategory,
    TaskPriority,
    TaskType,
)

from .handoffs import (
    Handoff,
    ImplementationPlan,
    PlannedTask,
    SoftwareSpecification,
    render,
    to_builtins,
)

PHASE_KEY = "phase:"


@dataclass(frozen=True)
class ProposalDraft:
    target: ProposalTarget
    title: str
    summary: str = ""
    content: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    action: ProposalAction = ProposalAction.CREATE


def proposals_for(name: str, handoff: Handoff) -> list[ProposalDraft]:
    """What the user is asked to accept for a handoff."""
    if isinstance(handoff, SoftwareSpecification):
        return [
            ProposalDraft(
                ProposalTarget.PAGE,
                "Software specification",
                summary=handoff.core_idea,
                content=render(name, to_builtins(handoff)),
                metadata={"key": "page:specification", "handoff": name},
            )
        ]
    if isinstance(handoff, ImplementationPlan):
        return plan_proposals(handoff)
    return []


def plan_proposals(plan: ImplementationPlan) -> list[ProposalDraft]:
    """One proposal per phase (each after the one before), then one per task."""
    drafts: list[ProposalDraft] = []
    phases = plan.phases()
    for i, phase in enumerate(phases):
        tasks = [t for t in plan.task_breakdown if t.phase == phase]
        drafts.append(
            ProposalDraft(
                ProposalTarget.PHASE,
                phase,
                summary=f"{len(tasks)} task{'s' if len(tasks) != 1 else ''}",
                content="\n".join(f"- {t.title}" for t in tasks),
                metadata={
                    "key": PHASE_KEY + phase,
                    "dependsOn": [PHASE_KEY + phases[i - 1]] if i else [],
                },
            )
        )
    for task in dependency_order(plan.task_breakdown):
        drafts.append(
            ProposalDraft(
                ProposalTarget.TASK,
                task.title,
                summary=f"{task.agent.value} · {task.phase}",
                content=task.description,
                metadata={
                    "key": task.key,
                    "phase": PHASE_KEY + task.phase,
                    "dependsOn": list(task.depends_on),
                    "agent": task.agent.value,
                    "type": task.type.value,
                    "category": task.category.value,
                    "priority": task.priority.value,
                },
            )
        )
    return drafts


def dependency_order(tasks: list[PlannedTask]) -> list[PlannedTask]:
    """The plan's tasks, each after the tasks it depends on (otherwise in the plan's order):
    a task's proposal names its dependencies' proposals, which must exist (and, in yolo, be
    accepted) first. The plan was validated: every key is known and there is no cycle."""
    ordered: list[PlannedTask] = []
    placed: set[str] = set()
    waiting = list(tasks)
    while waiting:
        task = next((t for t in waiting if placed.issuperset(t.depends_on)), waiting[0])
        waiting.remove(task)
        placed.add(task.key)
        ordered.append(task)
    return ordered


@dataclass(frozen=True)
class TaskFields:
    """A task proposal's metadata, typed (the user may have edited it)."""

    agent: AgentRole
    type: TaskType
    category: TaskCategory
    priority: TaskPriority
    phase_key: str | None
    phase_id: int | None
    depends_on_keys: list[str]
    depends_on_ids: list[int]


class MetadataInvalid(ValueError):
    pass


def task_fields(metadata: dict[str, Any]) -> TaskFields:
    """Read a task proposal's metadata; errors name the field (``metadata.agent``)."""

    def choice(name: str, kind: type[Any], default: Any) -> Any:
        value = metadata.get(name, default.value)
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(m.value for m in kind)
            raise MetadataInvalid(f"metadata.{name}: {value!r} is not one of {known}") from None

    def ints(name: str) -> list[int]:
        value = metadata.get(name, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise MetadataInvalid(f"metadata.{name}: expected a list of task ids, got {value!r}")
        return value

    keys = metadata.get("dependsOn", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise MetadataInvalid(f"metadata.dependsOn: expected a list of task keys, got {keys!r}")
    phase_id = metadata.get("phaseId")
    if phase_id is not None and (not isinstance(phase_id, int) or isinstance(phase_id, bool)):
        raise MetadataInvalid(f"metadata.phaseId: expected a phase id, got {phase_id!r}")
    phase_key = metadata.get("phase")
    return TaskFields(
        agent=choice("agent", AgentRole, AgentRole.BACKEND),
        type=choice("type", TaskType, TaskType.AUTO),
        category=choice("category", TaskCategory, TaskCategory.EXECUTE),
        priority=choice("priority", TaskPriority, TaskPriority.MEDIUM),
        phase_key=phase_key if isinstance(phase_key, str) else None,
        phase_id=phase_id,
        depends_on_keys=keys,
        depends_on_ids=ints("dependsOnIds"),
    )
