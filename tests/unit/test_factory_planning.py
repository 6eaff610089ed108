"""Handoffs become proposals; a task proposal's (edited) metadata is read with named errors."""

from __future__ import annotations

import pytest

from devfactory.protocol.enums import AgentRole, ProposalTarget, TaskPriority
from devfactory.server.factory.handoffs import validate
from devfactory.server.factory.planning import MetadataInvalid, proposals_for, task_fields


def test_a_plan_becomes_phase_then_task_proposals() -> None:
    plan = validate(
        "implementation_plan",
        {
            "architecture": "flat",
            "task_breakdown": [
                {"key": "m", "title": "Model", "phase": "Data", "agent": "backend"},
                {"key": "a", "title": "API", "phase": "Serve", "depends_on": ["m"]},
                {"key": "u", "title": "UI", "phase": "Serve", "agent": "frontend"},
            ],
        },
    )
    drafts = proposals_for("implementation_plan", plan)
    assert [(d.target, d.title) for d in drafts] == [
        (ProposalTarget.PHASE, "Data"),
        (ProposalTarget.PHASE, "Serve"),
        (ProposalTarget.TASK, "Model"),
        (ProposalTarget.TASK, "API"),
        (ProposalTarget.TASK, "UI"),
    ]
    assert drafts[1].metadata == {"key": "phase:Serve", "dependsOn": ["phase:Data"]}
    fields = task_fields(drafts[3].metadata)
    assert (fields.phase_key, fields.depends_on_keys) == ("phase:Serve", ["m"])
    assert fields.agent is AgentRole.BACKEND and fields.priority is TaskPriority.MEDIUM


def test_a_task_is_proposed_after_the_tasks_it_depends_on() -> None:
    """Each proposal's dependencies exist before it (a yolo initiative accepts it at once)."""
    plan = validate(
        "implementation_plan",
        {
            "architecture": "flat",
            "task_breakdown": [
                {"key": "ui", "title": "UI", "phase": "Build", "depends_on": ["api"]},
                {"key": "api", "title": "API", "phase": "Build", "depends_on": ["model"]},
                {"key": "docs", "title": "Docs", "phase": "Build"},
                {"key": "model", "title": "Model", "phase": "Build"},
            ],
        },
    )
    drafts = proposals_for("implementation_plan", plan)
    assert [d.title for d in drafts if d.target is ProposalTarget.TASK] == [
        "Docs",
        "Model",
        "API",
        "UI",
    ]


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"agent": "wizard"}, "metadata.agent: 'wizard' is not one of analyst, architect"),
        ({"dependsOn": "m"}, "metadata.dependsOn: expected a list of task keys, got 'm'"),
        ({"dependsOnIds": [True]}, "metadata.dependsOnIds: expected a list of task ids"),
        ({"phaseId": "2"}, "metadata.phaseId: expected a phase id, got '2'"),
    ],
)
def test_bad_metadata_is_refused_by_field(metadata: dict[str, object], error: str) -> None:
    with pytest.raises(MetadataInvalid) as caught:
        task_fields(metadata)
    assert str(caught.value).startswith(error)
