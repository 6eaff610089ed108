"""Worktrees of runs and initiatives: reused by the run or initiative that made them, never
by another database's with the same id."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.server.factory.merging import IntegrationBranch
from devfactory.server.git.runner import GitError
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


async def test_another_databases_initiative_with_the_same_id_gets_its_own_worktree(
    tmp_path: Path,
) -> None:
    """Initiative 1 of a new store (its branch numbered past the old one's) must not merge
    into the old initiative 1's integration worktree."""
    root = make_git_repo(tmp_path / "ws", {"todo.py": "\n"})
    base = git(root, "rev-parse", "HEAD").strip()
    repo = manager(root).repo
    path = root / ".devfactory" / "worktrees" / "initiative-1"
    await IntegrationBranch(repo, path, "df/todo").ensure(base)
    (path / "todo.py").write_text("the old initiative's work\n")

    await IntegrationBranch(repo, path, "df/todo-2").ensure(base)
    assert git(path, "branch", "--show-current").strip() == "df/todo-2"
    assert (path / "todo.py").read_text() == "\n"
    aside = path.with_name("initiative-1.stale-1")
    assert (aside / "todo.py").read_text() == "the old initiative's work\n"
    await IntegrationBranch(repo, path, "df/todo-2").ensure(base)  # its own: kept
    assert git(path, "branch", "--show-current").strip() == "df/todo-2"


async def test_a_rewritten_git_file_never_points_the_daemons_git_elsewhere(
    tmp_path: Path,
) -> None:
    """A command (with no sandbox to keep ``.git`` read-only) points the worktree's ``.git``
    file at a repository whose config it wrote: the daemon's git still works on the run's own
    repository, and never runs that config."""
    root = make_git_repo(tmp_path / "ws", {"calc.py": "a - b\n"})
    base = git(root, "rev-parse", "HEAD").strip()
    worktrees = manager(root)
    path = await worktrees.create(1, BRANCH, base)
    (path / "calc.py").write_text("a + b\n")
    marker = tmp_path / "ran"
    evil = path / "evil"
    git(tmp_path, "init", "-q", str(evil))
    git(evil, "config", "core.fsmonitor", f"touch {marker}; false")
    (path / ".git").write_text(f"gitdir: {evil / '.git'}\n")

    assert await worktrees.changed_paths(1, base) == {"calc.py": "M"}
    assert await worktrees.repo.tree_of(path, operation="snapshot")
    assert not marker.exists()
    with pytest.raises(GitError, match="is not one of its worktrees"):
        await worktrees.repo.run("status", cwd=evil)
