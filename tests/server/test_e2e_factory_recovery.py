"""kill -9 of the daemon in the middle of an initiative, then a new daemon on the same
workspace: no task stays in progress, finished tasks stay finished and merged (once), the
interrupted task starts again with a new run, and the initiative completes."""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.enums import (
    EventType,
    InitiativeMode,
    InitiativeStatus,
    RunStatus,
    TaskStatus,
)
from devfactory.protocol.initiatives import Initiative, InitiativeCreateParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunIdParams
from factory_support import (
    analyst,
    architect,
    coder,
    plan_of,
    planned,
    task_named,
    tree,
    wait_tree,
    write_factory_script,
)
from runs_support import RUN_OPTIONS, call, kill_9, start_daemon, stop_daemon, wait_event
from support import git, make_git_repo

OPTIONS = {**RUN_OPTIONS, "maxConcurrentRuns": 2}
PLAN = plan_of(
    planned("model", "Add the model", "Data"),
    planned("api", "Add the API", "Build", depends_on=["model"]),
    planned("ui", "Add the UI", "Build", agent="frontend", depends_on=["model"]),
)


def script(folder: Path, api_thinks_s: float) -> Path:
    return write_factory_script(
        folder,
        "todo",
        [
            analyst("Todo"),
            architect("Todo", PLAN),
            coder(
                "Add the model",
                call("write_file", path="model.py", content="MODEL = 1\n"),
                summary="model.py",
            ),
            {
                "match": ": Add the API\n\n# Initiative",
                "turns": [
                    {"text": "1. Write api.py"},
                    {"toolCalls": [call("write_file", path="api.py", content="API = 1\n")]},
                    {"text": "Thinking it over", "delayS": api_thinks_s},
                    {"toolCalls": [call("finish", summary="api.py")]},
                ],
            },
            coder(
                "Add the UI",
                call("write_file", path="ui.py", content="UI = 1\n"),
                summary="ui.py",
            ),
        ],
    )


async def test_kill_9_mid_initiative_then_restart(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "project", {"README.md": "# todo\n"})
    scripts = tmp_path / "scripts"
    model = script(scripts, api_thinks_s=600)
    first = await start_daemon(workspace, OPTIONS)
    try:
        initiative: Initiative = await first.call(
            Requests.INITIATIVES_CREATE,
            InitiativeCreateParams(
                goal="Todo", mode=InitiativeMode.YOLO, provider="scripted", model=str(model)
            ),
        )
        before = await wait_tree(
            first,
            initiative.id,
            lambda t: (
                len(t.tasks) == 5
                and task_named(t, "Add the UI").status is TaskStatus.COMPLETED
                and task_named(t, "Add the API").status is TaskStatus.IN_PROGRESS
                and bool(task_named(t, "Add the API").run_ids)
            ),
            what="the UI done while the API works",
        )
        api = task_named(before, "Add the API")
        await wait_event(first, api.run_ids[-1], EventType.FILE_CREATED)
    finally:
        pid = await kill_9(first)

    script(scripts, api_thinks_s=0)  # the API's agent thinks faster this time
    second = await start_daemon(workspace, OPTIONS)
    try:
        after = await tree(second, initiative.id)
        assert all(
            t.status is not TaskStatus.IN_PROGRESS or t.run_ids[-1] != api.run_ids[-1]
            for t in after.tasks
        ), "the dead daemon's task does not stay in progress"
        interrupted: Run = await second.call(Requests.RUNS_GET, RunIdParams(run_id=api.run_ids[-1]))
        assert interrupted.status is RunStatus.FAILED
        assert f"(pid {pid})" in (interrupted.failed_reason or "")
        done = await wait_tree(
            second,
            initiative.id,
            lambda t: t.initiative.status is InitiativeStatus.COMPLETED,
            what="the initiative to complete after the restart",
        )
        for title in ("Add the model", "Add the UI"):
            kept, was = task_named(done, title), task_named(before, title)
            assert (kept.status, kept.run_ids, kept.merged_commit) == (
                TaskStatus.COMPLETED,
                was.run_ids,
                was.merged_commit,
            ), f"{title} stays finished and merged"
        resumed = task_named(done, "Add the API")
        assert resumed.status is TaskStatus.COMPLETED
        assert len(resumed.run_ids) == 2 and resumed.run_ids[0] == api.run_ids[-1]
        merges = git(workspace, "log", "--format=%s", initiative.branch).splitlines()
        for task in done.tasks[2:]:
            assert merges.count(f"Merge task {task.id}: {task.title}") == 1, merges
        assert (workspace / "api.py").read_text() == "API = 1\n"
    finally:
        await stop_daemon(second)
