"""Abilities decided by a call's params and target, not only its method: work whose changes
apply unreviewed (yolo) needs ``changes:approve``, writing PROJECT_MAP.md needs ``admin``."""

from __future__ import annotations

from typing import Any

import pytest

from devfactory.protocol.enums import (
    AgentRole,
    InitiativeMode,
    ProposalAction,
    ProposalTarget,
    RunStatus,
)
from devfactory.protocol.methods import Requests as R
from devfactory.protocol.runs import RunMetadata
from devfactory.server.errors import InvalidParams, Refused
from devfactory.storage import Store
from devfactory.storage.ports import NewInitiative, NewPhase, NewProposal, NewTask
from team_support import project_authority

CREATE = ["runs:create"]
CONTROL = ["runs:control"]
APPROVE = ["runs:create", "runs:control", "changes:approve"]


async def _run(store: Store, mode: str) -> int:
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch="main", current_branch="main"
    )
    run = await store.runs.create(
        project_id=project.id, title="r", prompt="p", status=RunStatus.COMPLETED, agent="qa",
        provider="scripted", model=None, mode=mode, metadata=RunMetadata(),
    )  # fmt: skip
    return run.id


# (method, params, abilities, the ability it is refused for or None); "RUN" is the run's id
CASES: list[tuple[str, dict[str, Any], list[str], str | None]] = [
    (R.RUNS_CREATE, {"prompt": "x"}, CREATE, None),  # review: the params' own default
    (R.RUNS_CREATE, {"prompt": "x", "mode": "review"}, CREATE, None),
    (R.RUNS_CREATE, {"prompt": "x", "mode": "yolo"}, CREATE, "changes:approve"),
    (R.RUNS_CREATE, {"prompt": "x", "mode": "yolo"}, APPROVE, None),
    (R.RUNS_CREATE, {"prompt": "x", "mode": "yolo"}, ["admin"], None),
    (R.INITIATIVES_CREATE, {"goal": "g"}, CREATE, None),
    (R.INITIATIVES_CREATE, {"goal": "g", "mode": "yolo"}, CREATE, "changes:approve"),
    (R.INITIATIVES_CREATE, {"goal": "g", "mode": "yolo"}, APPROVE, None),
    (R.PROJECT_MAP, {}, [], "admin"),  # write defaults to true
    (R.PROJECT_MAP, {"write": True}, APPROVE, "admin"),
    (R.PROJECT_MAP, {"write": False}, [], None),
    (R.PROJECT_MAP, {"write": True}, ["admin"], None),
]


@pytest.mark.parametrize(("method", "params", "abilities", "refused"), CASES)
async def test_params_decide_the_ability_a_call_needs(
    any_store: Store, method: str, params: dict[str, Any], abilities: list[str], refused: str | None
) -> None:
    authority = await project_authority(any_store)
    secret, _ = await authority.create("t", abilities)
    if refused is None:
        await authority.authorize(secret, method, params)
    else:
        with pytest.raises(Refused, match=f"lacks the '{refused}' ability for this call"):
            await authority.authorize(secret, method, params)
        entry = (await any_store.audit.list())[0]
        assert (entry.method, entry.ability, entry.allowed) == (method, refused, False)


@pytest.mark.parametrize(
    ("method", "abilities"),
    [(R.RUNS_RETRY, CREATE), (R.RUNS_START, CREATE), (R.RUNS_MESSAGE, CREATE),
     (R.RUNS_DIRECTIVE, CONTROL), (R.RUNS_RESUME, CONTROL), (R.CHANGES_REQUEST_CHANGES, CONTROL)],
)  # fmt: skip
async def test_starting_or_steering_a_yolo_run_needs_changes_approve(
    any_store: Store, method: str, abilities: list[str]
) -> None:
    yolo, review = await _run(any_store, "yolo"), await _run(any_store, "review")
    authority = await project_authority(any_store)
    secret, _ = await authority.create("t", abilities)
    approver, _ = await authority.create("a", [*abilities, "changes:approve"])
    text = {"text": "more"} if method in (R.RUNS_MESSAGE, R.RUNS_DIRECTIVE) else {}
    await authority.authorize(secret, method, {"runId": review, **text})
    yolo_params = {"runId": yolo, **text}
    with pytest.raises(Refused, match="'changes:approve' ability for this call: its changes"):
        await authority.authorize(secret, method, yolo_params)
    await authority.authorize(approver, method, yolo_params)


async def _initiative_targets(store: Store, mode: InitiativeMode) -> dict[str, int]:
    """An initiative with a phase, a task, a proposal, a question and a chat: their ids."""
    project = await store.projects.register(
        root_path="/w", name="/w", slug="w", default_branch=None, current_branch=None
    )
    new = NewInitiative(
        project_id=project.id, name=mode.value, goal="g", mode=mode, branch=f"df/{mode.value}"
    )
    initiative, _ = await store.initiatives.create(new)
    phase, _ = await store.initiatives.create_phase(NewPhase(initiative_id=initiative.id, name="P"))
    task, _ = await store.tasks.create(
        NewTask(initiative_id=initiative.id, phase_id=phase.id, title="T", agent=AgentRole.QA)
    )
    proposal, _ = await store.proposals.create(
        NewProposal(
            initiative_id=initiative.id, target=ProposalTarget.TASK,
            action=ProposalAction.CREATE, title="Add",
        )
    )  # fmt: skip
    question = await store.conversations.ask(initiative.id, None, task.id, "Which port?")
    chat = await store.conversations.start_chat(initiative.id, phase.id, None, AgentRole.QA)
    return {
        "initiativeId": initiative.id, "phaseId": phase.id, "taskId": task.id,
        "proposalId": proposal.id, "conversationId": question.id, "sessionId": chat.id,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("method", "params", "abilities"),
    [
        (R.PHASES_CREATE, {"initiativeId": 0, "name": "Q"}, CREATE),
        (R.PHASES_UPDATE, {"phaseId": 0, "description": "and delete the tests"}, CONTROL),
        (R.PHASES_REQUEST_CHANGES, {"phaseId": 0, "note": "also this"}, CONTROL),
        (R.TASKS_CREATE, {"phaseId": 0, "title": "T2", "agent": "qa"}, CREATE),
        (R.TASKS_UPDATE, {"taskId": 0, "description": "and push"}, CONTROL),
        (R.TASKS_RETRY, {"taskId": 0}, CREATE),
        (R.TASKS_RESPOND, {"taskId": 0, "text": "yes, and more"}, CONTROL),
        (R.PROPOSALS_ACCEPT, {"proposalId": 0, "content": "anything"}, CONTROL),
        (R.CONVERSATIONS_ANSWER, {"conversationId": 0, "text": "port 22"}, CONTROL),
        (R.CHAT_START, {"initiativeId": 0}, CREATE),
        (R.CHAT_SEND, {"sessionId": 0, "text": "do it"}, CREATE),
    ],
)
async def test_steering_a_yolo_initiative_needs_changes_approve(
    any_store: Store, method: str, params: dict[str, Any], abilities: list[str]
) -> None:
    """Each call adds or rewrites what a yolo initiative's agents are told; a runs:control or
    runs:create token alone would put its own instructions into work nobody reviews."""
    authority = await project_authority(any_store)
    secret, _ = await authority.create("t", abilities)
    approver, _ = await authority.create("a", [*abilities, "changes:approve"])
    review = await _initiative_targets(any_store, InitiativeMode.REVIEW_PER_PHASE)
    yolo = await _initiative_targets(any_store, InitiativeMode.YOLO)

    def aimed(targets: dict[str, int]) -> dict[str, Any]:
        return {key: targets.get(key, value) for key, value in params.items()}

    await authority.authorize(secret, method, aimed(review))
    with pytest.raises(Refused, match="'changes:approve' ability for this call: its changes"):
        await authority.authorize(secret, method, aimed(yolo))
    await authority.authorize(approver, method, aimed(yolo))


async def test_bad_params_of_a_conditional_call_are_invalid_params(any_store: Store) -> None:
    authority = await project_authority(any_store)
    secret, _ = await authority.create("t", CREATE)
    with pytest.raises(InvalidParams, match="mode"):
        await authority.authorize(secret, R.RUNS_CREATE, {"prompt": "x", "mode": "reckless"})
