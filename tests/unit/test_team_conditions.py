"""Abilities decided by a call's params and target, not only its method: work whose changes
apply unreviewed (yolo) needs ``changes:approve``, writing PROJECT_MAP.md needs ``admin``."""

from __future__ import annotations

from typing import Any

import pytest

from devfactory.protocol.enums import RunStatus
from devfactory.protocol.methods import Requests as R
from devfactory.protocol.runs import RunMetadata
from devfactory.server.errors import InvalidParams, Refused
from devfactory.storage import Store
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
     (R.RUNS_DIRECTIVE, CONTROL)],
)  # fmt: skip
async def test_starting_or_steering_a_yolo_run_needs_changes_approve(
    any_store: Store, method: str, abilities: list[str]
) -> None:
    yolo, review = await _run(any_store, "yolo"), await _run(any_store, "review")
    authority = await project_authority(any_store)
    secret, _ = await authority.create("t", abilities)
    approver, _ = await authority.create("a", [*abilities, "changes:approve"])
    text = {} if method in (R.RUNS_RETRY, R.RUNS_START) else {"text": "more"}
    await authority.authorize(secret, method, {"runId": review, **text})
    yolo_params = {"runId": yolo, **text}
    with pytest.raises(Refused, match="'changes:approve' ability for this call: its changes"):
        await authority.authorize(secret, method, yolo_params)
    await authority.authorize(approver, method, yolo_params)


async def test_bad_params_of_a_conditional_call_are_invalid_params(any_store: Store) -> None:
    authority = await project_authority(any_store)
    secret, _ = await authority.create("t", CREATE)
    with pytest.raises(InvalidParams, match="mode"):
        await authority.authorize(secret, R.RUNS_CREATE, {"prompt": "x", "mode": "reckless"})
