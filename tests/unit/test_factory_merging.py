"""Task branches merge into the integration branch once; a conflict is aborted, named, and
resolved by a merge task's worktree; the user's checkout is never touched."""

from __future__ import annotations

from pathlib import Path

from devfactory.server.factory.merging import IntegrationBranch, begin_merge
from devfactory.server.paths import StatePaths
from devfactory.server.workspace.repository import WorkspaceRepository
from devfactory.server.workspace.worktrees import commit_worktree
from support import git, make_git_repo


async def task_worktree(repo: WorkspaceRepository, root: Path, name: str, base: str) -> Path:
    path = root / ".devfactory" / "worktrees" / name
    await repo.run("worktree", "add", "-q", "-b", f"agent/{name}", str(path), base)
    return path


async def test_merges_conflicts_and_merge_tasks(tmp_path: Path) -> None:
    root = make_git_repo(tmp_path / "project", {"app.py": "a = 1\nb = 2\n", ".gitignore": ""})
    repo = WorkspaceRepository(StatePaths(root), private=False, audit=None)
    start = git(root, "rev-parse", "HEAD").strip()
    integration = IntegrationBranch(repo, root / ".devfactory/worktrees/initiative-1", "df/todo")
    await integration.ensure(start)
    await integration.ensure(start)  # idempotent

    one = await task_worktree(repo, root, "one", start)
    (one / "models.py").write_text("class Todo: ...\n")
    (one / "__pycache__").mkdir()
    (one / "__pycache__" / "models.cpython-311.pyc").write_bytes(b"\0junk")
    two = await task_worktree(repo, root, "two", start)
    (two / "app.py").write_text("a = 10\nb = 2\n")
    first = await commit_worktree(repo, one, "task 1")
    assert first != start
    assert await commit_worktree(repo, one, "nothing new") == first
    await commit_worktree(repo, two, "task 2")

    merged = await integration.merge("agent/one", "Merge task 1")
    assert merged.conflicts == [] and merged.commit is not None
    assert (await integration.merge("agent/one", "again")).already_merged
    assert (await integration.merge("agent/two", "Merge task 2")).conflicts == []
    files = dict((p, s) for s, p in await integration.changed_files(start, merged.commit))
    assert files == {"models.py": "A"}, "build junk is never committed"

    three = await task_worktree(repo, root, "three", start)
    (three / "app.py").write_text("a = 30\nb = 2\n")
    await commit_worktree(repo, three, "task 3")
    head = await integration.head()
    conflicted = await integration.merge("agent/three", "Merge task 3")
    assert conflicted.commit is None and conflicted.conflicts == ["app.py"]
    assert await integration.head() == head, "the failed merge left nothing behind"
    assert git(integration.path, "status", "--porcelain") == ""

    fixer = await task_worktree(repo, root, "merge-3", head)
    assert await begin_merge(repo, fixer, "agent/three") == ["app.py"]
    assert "<<<<<<<" in (fixer / "app.py").read_text()
    (fixer / "app.py").write_text("a = 40\nb = 2\n")
    await commit_worktree(repo, fixer, "Resolve task 3's conflict")
    resolved = await integration.merge("agent/merge-3", "Merge the resolution")
    assert resolved.conflicts == []
    assert (integration.path / "app.py").read_text() == "a = 40\nb = 2\n"
    tip = git(root, "rev-parse", "agent/three").strip()
    assert await integration.contains(tip), "task 3's own commits are in, once"
    assert (root / "app.py").read_text() == "a = 1\nb = 2\n", "the user's files are untouched"
    assert git(root, "status", "--porcelain") == "?? .devfactory/\n", "only our state folder"
