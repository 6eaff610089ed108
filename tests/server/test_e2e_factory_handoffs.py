"""A plan handed off in a yolo initiative is taken whole or not at all, over the real daemon.

Yolo accepts each proposal of a plan as it is stored; a plan the editor would refuse half-way
(a title past its limit) is refused as a handoff, nothing of it stored, and the architect
corrects it; a plan listing a task before the task it depends on is accepted whole.
"""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.enums import (
    EventType,
    InitiativeMode,
    InitiativeStatus,
    ProposalStatus,
    TaskStatus,
)
from devfactory.protocol.initiatives import Initiative, InitiativeCreateParams, InitiativeIdParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.proposals import ArtifactList, ProposalList, ProposalListParams
from factory_support import (
    analyst,
    coder,
    plan_of,
    planned,
    statuses,
    wait_tree,
    write_factory_script,
)
from runs_support import RUN_OPTIONS, call, finish, replay, start_daemon, stop_daemon, turn
from support import make_git_repo

TOO_LONG = plan_of(planned("model", "M" * 201, "Data"))
BACKWARDS = plan_of(
    planned("api", "Add the API", "Build", depends_on=["model"]),
    planned("model", "Add the Todo model", "Build"),
)


def script(folder: Path) -> Path:
    def submit(plan: dict[str, object]) -> dict[str, object]:
        return turn("", call("submit_handoff", schema="implementation_plan", content=plan))

    return write_factory_script(
        folder,
        "todo",
        [
            analyst("Todo"),
            {
                "match": "Plan: Todo",
                "turns": [
                    turn("1. Plan"),
                    submit(TOO_LONG),
                    turn("The error says:", quote_last=True),
                    submit(BACKWARDS),
                    finish("Planned Todo"),
                ],
            },
            coder(
                "Add the Todo model",
                call("write_file", path="todo/model.py", content="class Todo:\n    pass\n"),
                summary="Todo in todo/model.py",
            ),
            coder(
                "Add the API",
                call("write_file", path="todo/api.py", content="ROUTE = '/todos'\n"),
                summary="GET /todos",
            ),
        ],
    )


async def test_a_yolo_plan_is_accepted_whole_or_refused(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "project", {"README.md": "# todo\n"})
    client = await start_daemon(workspace, RUN_OPTIONS)
    try:
        initiative: Initiative = await client.call(
            Requests.INITIATIVES_CREATE,
            InitiativeCreateParams(
                goal="Todo",
                mode=InitiativeMode.YOLO,
                provider="scripted",
                model=str(script(tmp_path / "scripts")),
            ),
        )
        done = await wait_tree(
            client,
            initiative.id,
            lambda t: t.initiative.status is InitiativeStatus.COMPLETED,
            timeout=40,
            what="the initiative to complete",
        )
        assert statuses(done) == {
            "Specify": TaskStatus.COMPLETED,
            "Plan": TaskStatus.COMPLETED,
            "Add the Todo model": TaskStatus.COMPLETED,
            "Add the API": TaskStatus.COMPLETED,
        }
        api = next(t for t in done.tasks if t.title == "Add the API")
        model = next(t for t in done.tasks if t.title == "Add the Todo model")
        assert api.depends_on == [model.id]
        proposals: ProposalList = await client.call(
            Requests.PROPOSALS_LIST, ProposalListParams(initiative_id=initiative.id, status=None)
        )
        assert {p.status for p in proposals.proposals} == {ProposalStatus.ACCEPTED}
        artifacts: ArtifactList = await client.call(
            Requests.INITIATIVES_ARTIFACTS, InitiativeIdParams(initiative_id=initiative.id)
        )
        assert [a.name for a in artifacts.artifacts] == [
            "software_specification",
            "implementation_plan",
        ]
        assert any(
            e.type is EventType.HANDOFF_REJECTED
            and "length <= 200 - at `$.task_breakdown[0].title`" in e.message
            for e in await replay(client)
        )
        assert (workspace / "todo" / "api.py").exists()
    finally:
        await stop_daemon(client)
