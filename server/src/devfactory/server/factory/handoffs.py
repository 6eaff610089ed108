"""Typed handoffs between role agents: their schemas, and the validation every one passes.

The analyst hands the architect a ``software_specification``; the architect hands the coders
an ``implementation_plan`` whose task breakdown becomes phases and tasks. An agent submits
one with the ``submit_handoff`` tool; content that does not match its schema (or a plan whose
tasks depend on unknown or circular keys) is refused with an error naming the field, which
goes back to the agent to correct: nothing invalid is ever stored or passed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from devfactory.protocol.enums import (
    AgentRole,
    ArtifactKind,
    TaskCategory,
    TaskPriority,
    TaskType,
)

from .editing import MAX_TITLE
from .model.graph import find_cycle

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE)]
"""A task's title or a phase's name: what the plan editor takes (not longer than its limit,
and not blank: ``_check_plan``), so an accepted plan never fails half-way on one of them."""


class Handoff(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of the handoff schemas (snake_case fields, as agents write them)."""


class SoftwareSpecification(Handoff, kw_only=True):
    """What to build, from the user's goal: the analyst's handoff to the architect."""

    core_idea: NonEmpty
    requirements: Annotated[list[NonEmpty], msgspec.Meta(min_length=1)]
    user_stories: list[NonEmpty] = []
    high_level_features: list[NonEmpty] = []


class PlannedTask(Handoff, kw_only=True):
    """One task of a plan; ``depends_on`` names other tasks of the plan by ``key``."""

    key: NonEmpty
    """Unique within the plan (``t1``, ``api-endpoint``)."""
    title: Title
    phase: Title
    """The phase's name; phases come in the order they first appear."""
    description: str = ""
    agent: AgentRole = AgentRole.BACKEND
    depends_on: list[str] = []
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM


class ImplementationPlan(Handoff, kw_only=True):
    """How to build it: the architect's handoff to the coders (and the plan proposals)."""

    architecture: NonEmpty
    database_schema: str = ""
    tech_stack: list[NonEmpty] = []
    task_breakdown: Annotated[list[PlannedTask], msgspec.Meta(min_length=1)]

    def phases(self) -> list[str]:
        """Phase names in the order they first appear."""
        return list(dict.fromkeys(task.phase for task in self.task_breakdown))


@dataclass(frozen=True)
class HandoffSchema:
    name: str
    kind: ArtifactKind
    type: type[Handoff]
    roles: frozenset[AgentRole]
    """The roles that produce it."""


SCHEMAS: dict[str, HandoffSchema] = {
    schema.name: schema
    for schema in (
        HandoffSchema(
            "software_specification",
            ArtifactKind.SPEC,
            SoftwareSpecification,
            frozenset({AgentRole.ANALYST}),
        ),
        HandoffSchema(
            "implementation_plan",
            ArtifactKind.PLAN,
            ImplementationPlan,
            frozenset({AgentRole.ARCHITECT}),
        ),
    )
}


class HandoffInvalid(ValueError):
    """The handoff does not match its schema; the message says where and how to fix it."""


def validate(name: str, content: Any) -> Handoff:
    """The typed handoff ``content`` holds, or ``HandoffInvalid`` naming the field."""
    schema = SCHEMAS.get(name)
    if schema is None:
        known = ", ".join(SCHEMAS)
        raise HandoffInvalid(f"schema: unknown handoff {name!r}; known: {known}")
    try:
        handoff = msgspec.convert(content, schema.type)
    except msgspec.ValidationError as exc:
        raise HandoffInvalid(f"{name}: {exc}") from None
    if isinstance(handoff, ImplementationPlan):
        _check_plan(handoff)
    return handoff


def _check_plan(plan: ImplementationPlan) -> None:
    keys: dict[str, int] = {}
    for i, task in enumerate(plan.task_breakdown):
        for field in ("title", "phase"):
            if not getattr(task, field).strip():
                raise HandoffInvalid(
                    f"implementation_plan: {field} is blank - at `$.task_breakdown[{i}].{field}`"
                    f"; give the task a {'title' if field == 'title' else 'phase name'}"
                )
    for i, task in enumerate(plan.task_breakdown):
        if task.key in keys:
            raise HandoffInvalid(
                f"implementation_plan: task key {task.key!r} is used twice - at "
                f"`$.task_breakdown[{i}].key`; give each task its own key"
            )
        keys[task.key] = i
    for i, task in enumerate(plan.task_breakdown):
        unknown = [d for d in task.depends_on if d not in keys]
        if unknown:
            raise HandoffInvalid(
                f"implementation_plan: depends_on names no task of the plan: "
                f"{', '.join(map(repr, unknown))} - at `$.task_breakdown[{i}].depends_on`; use "
                f"the key of a task (known: {', '.join(keys)})"
            )
    order = {name: i for i, name in enumerate(plan.phases())}
    for i, task in enumerate(plan.task_breakdown):
        later = [
            d
            for d in task.depends_on
            if order[plan.task_breakdown[keys[d]].phase] > order[task.phase]
        ]
        if later:
            raise HandoffInvalid(
                f"implementation_plan: {task.key!r} depends on {', '.join(map(repr, later))} of a "
                f"later phase - at `$.task_breakdown[{i}].depends_on`; move it to that phase or "
                "later"
            )
    cycle = find_cycle({t.key: t.depends_on for t in plan.task_breakdown})
    if cycle:
        raise HandoffInvalid(
            f"implementation_plan: tasks depend on each other in a cycle: {' -> '.join(cycle)}"
        )


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a handoff, for the tool description an agent reads."""
    schema: dict[str, Any] = msgspec.json.schema(SCHEMAS[name].type)
    return schema


def to_builtins(handoff: Handoff) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(handoff)
    return data


def render(name: str, content: dict[str, Any]) -> str:
    """A handoff as Markdown, for the prompts of the agents it is handed to."""
    lines = [f"## {name.replace('_', ' ').capitalize()}"]
    for field, value in content.items():
        title = field.replace("_", " ").capitalize()
        if isinstance(value, list):
            lines.append(f"### {title}")
            for item in value:
                if isinstance(item, dict):
                    label = item.get("title") or item.get("key") or ""
                    detail = item.get("description") or ""
                    lines.append(f"- {label}: {detail}".rstrip(": "))
                else:
                    lines.append(f"- {item}")
        elif value not in ("", None):
            lines.append(f"### {title}\n{value}")
    return "\n".join(lines)
