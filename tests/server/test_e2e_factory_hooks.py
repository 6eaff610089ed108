"""No git hook of the user's runs on what an agent wrote, over the real daemon.

A task's worktree is checked out from the initiative's integration branch: the merged work of
the tasks before it, files a model wrote. ``git worktree add`` runs the repository's
``post-checkout`` hook there, and hook managers (pre-commit, lefthook, husky) run what the
checked-out tree configures: outside the sandbox, as the user. The daemon adds its worktrees
with hooks off, as it commits and merges in them.
"""

from __future__ import annotations

import stat
from pathlib import Path

from devfactory.protocol.enums import InitiativeMode, TaskStatus
from devfactory.protocol.initiatives import Phase
from devfactory.protocol.initiatives import PhaseCreateParams as NewPhase
from devfactory.protocol.methods import Requests
from devfactory.protocol.tasks import Task, TaskCreateParams
from factory_support import coder, hand_planned, statuses, wait_tree, write_factory_script
from runs_support import RUN_OPTIONS, call, start_daemon, stop_daemon
from support import make_git_repo

HOOK = """#!/bin/sh
# What a hook manager does after a checkout: run the commands the checked-out tree names.
if [ -f checkout-tasks.sh ]; then sh checkout-tasks.sh; fi
exit 0
"""


async def test_a_later_tasks_worktree_runs_no_hook_on_an_agents_files(tmp_path: Path) -> None:
    workspace = make_git_repo(tmp_path / "project", {"README.md": "# app\n"})
    hook = workspace / ".git" / "hooks" / "post-checkout"
    hook.write_text(HOOK)
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    escaped = tmp_path / "escaped"
    model = write_factory_script(
        tmp_path / "scripts",
        "app",
        [
            coder(
                "Write the script",
                call("write_file", path="checkout-tasks.sh", content=f"echo ran > {escaped}\n"),
                summary="checkout-tasks.sh",
            ),
            coder("Build on it", summary="nothing to add"),
        ],
    )
    client = await start_daemon(workspace, RUN_OPTIONS)
    try:
        initiative = await hand_planned(client, "App", InitiativeMode.REVIEW_PER_PHASE, model)
        phase: Phase = await client.call(
            Requests.PHASES_CREATE, NewPhase(initiative_id=initiative.id, name="Work")
        )
        first: Task = await client.call(
            Requests.TASKS_CREATE, TaskCreateParams(phase_id=phase.id, title="Write the script")
        )
        await client.call(
            Requests.TASKS_CREATE,
            TaskCreateParams(phase_id=phase.id, title="Build on it", depends_on=[first.id]),
        )
        await wait_tree(
            client,
            initiative.id,
            lambda t: statuses(t).get("Build on it") is TaskStatus.COMPLETED,
            what="the second task to complete",
        )
        assert not escaped.exists(), "the user's hook ran the agent's script"
    finally:
        await stop_daemon(client)
