"""A yolo initiative over the real daemon: the goal is specified and planned, the plan is
accepted as it comes, tasks run as runs on their own branches (two in parallel), their work
merges into the integration branch once, phases complete on their own, and the result is
applied to the workspace behind one snapshot that undoes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.enums import (
    EventType,
    InitiativeMode,
    InitiativeStatus,
    PhaseStatus,
    ProposalStatus,
    RunStatus,
    TaskStatus,
)
from devfactory.protocol.initiatives import Initiative, InitiativeCreateParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.proposals import ProposalList, ProposalListParams
from devfactory.protocol.runs import Run, RunIdParams
from devfactory.protocol.snapshots import SnapshotRestoreParams
from factory_support import (
    analyst,
    architect,
    coder,
    plan_of,
    planned,
    statuses,
    task_named,
    wait_tree,
    write_factory_script,
)
from runs_support import RUN_OPTIONS, call, replay, start_daemon, stop_daemon
from support import git, make_git_repo

OPTIONS = {**RUN_OPTIONS, "maxConcurrentRuns": 2}
PLAN = plan_of(
    planned("model", "Add the Todo model", "Data"),
    planned("api", "Add the API", "Build", depends_on=["model"]),
    planned("ui", "Add the UI", "Build", agent="frontend", depends_on=["model"]),
)


def script(folder: Path) -> Path:
    return write_factory_script(
        folder,
        "todo",
        [
            analyst("Todo"),
            architect("Todo", PLAN),
            coder(
                "Add the Todo model",
                call("write_file", path="todo/model.py", content="class Todo:\n    title = ''\n"),
                summary="Todo has a title (todo/model.py)",
            ),
            coder(
                "Add the API",
                call("write_file", path="todo/api.py", content="from todo.model import Todo\n"),
                summary="GET /todos lists todos",
                delay_s=1,
            ),
            coder(
                "Add the UI",
                call("write_file", path="todo/ui.py", content="print('todos')\n"),
                summary="A page lists todos",
                delay_s=1,
            ),
        ],
    )


@pytest.mark.both_databases
async def test_a_yolo_initiative_runs_to_an_applied_result(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "project", {"README.md": "# todo\n"})
    model = script(tmp_path / "scripts")
    client = await start_daemon(workspace, OPTIONS)
    try:
        initiative: Initiative = await client.call(
            Requests.INITIATIVES_CREATE,
            InitiativeCreateParams(
                goal="Todo\nA todo list with an API and a UI",
                mode=InitiativeMode.YOLO,
                provider="scripted",
                model=str(model),
            ),
        )
        assert initiative.branch == "df/todo"
        done = await wait_tree(
            client,
            initiative.id,
            lambda t: t.initiative.status is InitiativeStatus.COMPLETED,
            what="the initiative to complete",
        )
        assert [(p.name, p.status) for p in done.phases] == [
            ("Planning", PhaseStatus.COMPLETED),
            ("Data", PhaseStatus.COMPLETED),
            ("Build", PhaseStatus.COMPLETED),
        ]
        assert set(statuses(done).values()) == {TaskStatus.COMPLETED}
        proposals: ProposalList = await client.call(
            Requests.PROPOSALS_LIST, ProposalListParams(initiative_id=initiative.id, status=None)
        )
        assert {p.status for p in proposals.proposals} == {ProposalStatus.ACCEPTED}
        assert len(proposals.proposals) == 6  # the specification, 2 phases, 3 tasks

        # Each task ran as a run on its own branch; the dependents saw the model's summary.
        api, ui = task_named(done, "Add the API"), task_named(done, "Add the UI")
        runs: list[Run] = [
            await client.call(Requests.RUNS_GET, RunIdParams(run_id=t.run_ids[-1]))
            for t in (api, ui)
        ]
        assert {r.status for r in runs} == {RunStatus.COMPLETED}
        assert runs[0].worktree_path != runs[1].worktree_path
        prompt = next(
            e for e in await replay(client, runs[0].id) if e.type is EventType.USER_PROMPT
        )
        assert "Todo has a title (todo/model.py)" in prompt.payload["prompt"]
        running = [
            n.run.id
            for n in client.notes.received[Notifications.RUN_CHANGED]
            if n.run.status is RunStatus.RUNNING
        ]
        assert {r.id for r in runs} <= set(running)

        # The integration branch merged each task once; the result is in the workspace.
        log = git(workspace, "log", "--format=%s", "df/todo")
        assert sum("Merge task" in line for line in log.splitlines()) == 3
        assert (workspace / "todo" / "api.py").exists()
        snapshot = next(
            e.payload["snapshotId"]
            for e in await replay(client)
            if e.type is EventType.SNAPSHOT_CREATED and e.payload["snapshotType"] == "pre_apply"
        )
        await client.call(Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=snapshot))
        assert not (workspace / "todo").exists(), "one restore undoes the whole initiative"
    finally:
        await stop_daemon(client)
