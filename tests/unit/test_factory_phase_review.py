"""A phase's diff over a real repository: a file a task's command made huge is listed, not read
into the daemon's memory (the review of a run's changes stops at the same limit)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from devfactory.protocol.enums import ChangeAction, PhaseStatus
from devfactory.protocol.initiatives import Phase, PhaseFileDiff
from devfactory.server.factory.merging import IntegrationBranch
from devfactory.server.factory.phase_review import phase_diff
from devfactory.server.paths import StatePaths
from devfactory.server.review.texts import MAX_REVIEW_BYTES
from devfactory.server.workspace.repository import WorkspaceRepository
from devfactory.server.workspace.worktrees import commit_worktree
from support import git, make_git_repo

HUGE = 4 * MAX_REVIEW_BYTES


async def test_a_huge_file_is_listed_without_being_read(tmp_path: Path) -> None:
    root = make_git_repo(tmp_path / "project", {"app.py": "a = 1\n"})
    repo = WorkspaceRepository(StatePaths(root), private=False, audit=None)
    start = git(root, "rev-parse", "HEAD").strip()
    integration = IntegrationBranch(repo, root / ".devfactory/worktrees/initiative-1", "df/big")
    await integration.ensure(start)
    task = root / ".devfactory" / "worktrees" / "task"
    await repo.add_worktree("-q", "-b", "agent/task", str(task), start)
    with (task / "dump.bin").open("wb") as out:  # what `dd` in a task's command leaves
        out.truncate(HUGE)
    (task / "app.py").write_text("a = 2\n")
    await commit_worktree(repo, task, "task")
    merged = await integration.merge("agent/task", "Merge task")
    assert merged.commit is not None
    phase = Phase(
        id=1,
        initiative_id=1,
        name="Build",
        position=0,
        status=PhaseStatus.PENDING_REVIEW,
        base_commit=start,
        created_at="",
        updated_at="",
    )

    tracemalloc.start()
    try:
        diff = await phase_diff(integration, phase, merged.commit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [f.path for f in diff.files] == ["app.py", "dump.bin"]
    assert diff.files[1] == PhaseFileDiff(
        path="dump.bin",
        action=ChangeAction.CREATE,
        diff="Binary file dump.bin differs\n",
        binary=True,
    )
    assert peak < MAX_REVIEW_BYTES, f"the diff held {peak} bytes"
