"""Handoffs are validated against their schemas; every refusal names the field to fix."""

from __future__ import annotations

from typing import Any

import pytest

from devfactory.server.factory.handoffs import (
    HandoffInvalid,
    ImplementationPlan,
    SoftwareSpecification,
    json_schema,
    render,
    validate,
)

SPEC = {
    "core_idea": "A todo API",
    "requirements": ["store todos", "list todos"],
    "user_stories": ["As a user I add a todo"],
    "high_level_features": ["REST API"],
}


def task(key: str, phase: str = "Build", **more: Any) -> dict[str, Any]:
    return {"key": key, "title": f"Task {key}", "phase": phase, **more}


def plan(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {"architecture": "one module", "tech_stack": ["python"], "task_breakdown": list(tasks)}


def test_a_valid_specification_and_plan_are_typed() -> None:
    spec = validate("software_specification", SPEC)
    assert isinstance(spec, SoftwareSpecification)
    assert spec.requirements == ["store todos", "list todos"]
    handoff = validate(
        "implementation_plan",
        plan(task("t1", "Model"), task("t2", "API", depends_on=["t1"]), task("t3", "Model")),
    )
    assert isinstance(handoff, ImplementationPlan)
    assert handoff.phases() == ["Model", "API"]


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("nonsense", {}, "schema: unknown handoff 'nonsense'; known: software_specification"),
        (
            "software_specification",
            {**SPEC, "requirements": "store todos"},
            "software_specification: Expected `array`, got `str` - at `$.requirements`",
        ),
        (
            "software_specification",
            {**SPEC, "requirements": []},
            "software_specification: Expected `array` of length >= 1 - at `$.requirements`",
        ),
        (
            "software_specification",
            {**SPEC, "mood": "happy"},
            "software_specification: Object contains unknown field `mood`",
        ),
        (
            "implementation_plan",
            plan(task("t1", agent="wizard")),
            "implementation_plan: Invalid enum value 'wizard' - at `$.task_breakdown[0].agent`",
        ),
        (
            "implementation_plan",
            plan(task("t1", title="x" * 201)),
            "implementation_plan: Expected `str` of length <= 200 - at `$.task_breakdown[0].title`",
        ),
        (
            "implementation_plan",
            plan(task("t1", phase="  ")),
            "implementation_plan: phase is blank - at `$.task_breakdown[0].phase`; give the "
            "task a phase name",
        ),
        (
            "implementation_plan",
            plan(task("t1"), task("t1")),
            "implementation_plan: task key 't1' is used twice - at `$.task_breakdown[1].key`",
        ),
        (
            "implementation_plan",
            plan(task("t1", depends_on=["t9"])),
            "implementation_plan: depends_on names no task of the plan: 't9' - at "
            "`$.task_breakdown[0].depends_on`; use the key of a task (known: t1)",
        ),
        (
            "implementation_plan",
            plan(task("t1", "A", depends_on=["t2"]), task("t2", "B")),
            "implementation_plan: 't1' depends on 't2' of a later phase",
        ),
        (
            "implementation_plan",
            plan(task("t1", depends_on=["t2"]), task("t2", depends_on=["t1"])),
            "implementation_plan: tasks depend on each other in a cycle: t1 -> t2 -> t1",
        ),
    ],
)
def test_invalid_handoffs_are_refused_with_the_field(
    name: str, content: dict[str, Any], error: str
) -> None:
    with pytest.raises(HandoffInvalid) as caught:
        validate(name, content)
    assert str(caught.value).startswith(error)


def test_the_schema_and_the_rendering_show_the_fields() -> None:
    schema = json_schema("implementation_plan")
    assert "task_breakdown" in schema["$defs"]["ImplementationPlan"]["properties"]
    text = render("software_specification", SPEC)
    assert text.startswith("## Software specification\n### Core idea\nA todo API\n")
    assert "- list todos" in text
