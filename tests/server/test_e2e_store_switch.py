"""A workspace that changes stores (its SQLite file, then PostgreSQL or a fresh database): run
ids start again at 1, and the new run 1 must start from the user's files, not inside the old
run 1's worktree or from its checkpoints, which stay in the workspace's git."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.enums import RunStatus
from devfactory.server.config import STORAGE_VARIABLE
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    kinds,
    replay,
    start_daemon,
    stop_daemon,
    turn,
    wait_finished,
    write_script,
)
from support import make_git_repo

CALC = "def add(a, b):\n    return a - b\n"


async def fixed_run(workspace: Path, script: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run the script on a daemon with ``env``; the run's id and its event kinds."""
    client = await start_daemon(workspace, RUN_OPTIONS, env=env)
    try:
        run = await wait_finished(client, (await create_run(client, script)).id)
        assert run.status is RunStatus.COMPLETED, run.failed_reason
        return run.id, kinds(await replay(client, run.id))
    finally:
        await stop_daemon(client)


@pytest.mark.both_databases
async def test_a_new_stores_run_1_starts_clean(tmp_path: Path, database: str) -> None:
    workspace = make_git_repo(tmp_path / "project", {"calc.py": CALC})
    edit = call("edit_file", path="calc.py", search="a - b", replace="a + b")
    script = write_script(tmp_path, "fix", [turn("1. Fix add()"), turn("", edit), finish()])
    own_sqlite = {k: v for k, v in os.environ.items() if k != STORAGE_VARIABLE}
    other = os.environ.get(STORAGE_VARIABLE) or str(tmp_path / "fresh.db")

    first, before = await fixed_run(workspace, script, own_sqlite)
    second, after = await fixed_run(workspace, script, {**own_sqlite, STORAGE_VARIABLE: other})

    assert first == second == 1
    assert after == before, "the same run from the same files, step by step"
    assert {"file_updated", "checkpoint_created"} <= set(after)
    worktrees = workspace / ".devfactory" / "worktrees"
    assert (worktrees / "run-1" / "calc.py").read_text() == CALC.replace("-", "+")
    assert (worktrees / "run-1.stale-1" / "calc.py").read_text() == CALC.replace("-", "+")
