"""A run's worktree: reused by the run that made it, never by another database's run 1."""

from __future__ import annotations

from pathlib import Path

from devfactory.server.paths import StatePaths
from devfactory.server.workspace.repository import WorkspaceRepository
from devfactory.server.workspace.worktrees import WorktreeManager
from support import git, make_git_repo

BRANCH = "agent/run-1-fix-add"


def manager(root: Path) -> WorktreeManager:
    paths = StatePaths(root)
    paths.ensure()
    return WorktreeManager(WorkspaceRepository(paths, private=False, audit=None), paths)


async def test_the_same_run_gets_its_worktree_back_with_its_work(tmp_path: Path) -> None:
    root = make_git_repo(tmp_path / "ws", {"calc.py": "a - b\n"})
    base = git(root, "rev-parse", "HEAD").strip()
    worktrees = manager(root)
    path = await worktrees.create(1, BRANCH, base, owner="2026-12-01T10:00:00.000001+00:00")
    (path / "calc.py").write_text("a + b\n")
    again = await worktrees.create(1, BRANCH, base, owner="2026-12-01T10:00:00.000001+00:00")
    assert again == path and (path / "calc.py").read_text() == "a + b\n"


async def test_another_databases_run_with_the_same_id_starts_clean(tmp_path: Path) -> None:
    """The workspace moved from SQLite to PostgreSQL: the new run 1 starts from its base,
    not in the old run 1's edits, which stay in a worktree moved aside."""
    root = make_git_repo(tmp_path / "ws", {"calc.py": "a - b\n"})
    base = git(root, "rev-parse", "HEAD").strip()
    worktrees = manager(root)
    old = await worktrees.create(1, BRANCH, base, owner="2026-12-01T10:00:00+00:00")
    (old / "calc.py").write_text("a + b\n")
    git(old, "commit", "-qam", "the old run's checkpoint")
    kept = git(old, "rev-parse", "HEAD").strip()

    new = await worktrees.create(1, BRANCH, base, owner="2026-12-02T08:00:00+00:00")
    assert new == old
    assert (new / "calc.py").read_text() == "a - b\n"
    assert git(new, "rev-parse", "HEAD").strip() == base
    assert git(new, "branch", "--show-current").strip() == BRANCH
    aside = old.with_name("run-1.stale-1")
    assert (aside / "calc.py").read_text() == "a + b\n"
    assert git(aside, "rev-parse", "HEAD").strip() == kept
    assert await worktrees.create(1, BRANCH, base, owner="2026-12-02T08:00:00+00:00") == new
