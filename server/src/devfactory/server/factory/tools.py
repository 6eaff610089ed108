"""The tools factory agents get on top of their role's: ``submit_handoff`` (a typed result
for the next role), ``propose`` (a phase, task or page for the user to accept) and
``ask_agent`` (a question to another task's agent, through the orchestrator).

Which of them a run gets depends on what the run is for (the analyst and architect hand
off, a chat proposes, a task asks), so the orchestrator builds them per run, each bound to
its initiative and task.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from devfactory.protocol.enums import ProposalAction, ProposalTarget

from ..agents.providers.base import ToolSpec
from .handoffs import SCHEMAS

Handler = Callable[[dict[str, Any]], Awaitable[str]]


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


SUBMIT_HANDOFF = ToolSpec(
    name="submit_handoff",
    description=(
        "Hand your result to the next agent as a typed document. `schema` names its type; "
        "`content` must match it (software_specification: core_idea, requirements[], "
        "user_stories[], high_level_features[]; implementation_plan: architecture, "
        "database_schema, tech_stack[], task_breakdown[] of {key, title, phase, description, "
        "agent, depends_on[] (keys), type, category, priority}). A refused handoff comes back "
        "with the error: correct it and submit again."
    ),
    parameters=_object(
        {"schema": {"type": "string", "enum": list(SCHEMAS)}, "content": {"type": "object"}},
        ["schema", "content"],
    ),
)

PROPOSE = ToolSpec(
    name="propose",
    description=(
        "Suggest creating or updating a phase, a task or a page; the user accepts, edits or "
        "dismisses it. For an update, name the phase_id or task_id."
    ),
    parameters=_object(
        {
            "target": {"type": "string", "enum": [t.value for t in ProposalTarget]},
            "action": {"type": "string", "enum": [a.value for a in ProposalAction]},
            "title": {"type": "string", "minLength": 1},
            "summary": {"type": "string"},
            "content": {"type": "string", "description": "Markdown."},
            "metadata": {"type": "object"},
            "phase_id": {"type": "integer"},
            "task_id": {"type": "integer"},
        },
        ["target", "action", "title"],
    ),
)

ASK_AGENT = ToolSpec(
    name="ask_agent",
    description=(
        "Ask the agent of another task of this initiative a question (its task id is in your "
        "prompt) and wait for its answer."
    ),
    parameters=_object(
        {"task_id": {"type": "integer"}, "question": {"type": "string", "minLength": 1}},
        ["task_id", "question"],
    ),
)


@dataclass(frozen=True)
class ExtraTool:
    spec: ToolSpec
    handler: Handler


def bind(spec: ToolSpec, handler: Handler) -> tuple[str, ExtraTool]:
    return spec.name, ExtraTool(spec, handler)
