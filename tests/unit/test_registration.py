"""What initialize learns of the workspace's repository, in one round of git calls."""

from __future__ import annotations

from pathlib import Path

from devfactory.server.git.ignore import literal_pattern
from devfactory.server.git.runner import GitRunner
from devfactory.server.project.registration import (
    Repository,
    exclude_state_dir,
    inspect,
)
from support import git, make_git_repo


async def test_a_clone_defaults_to_origins_head_and_knows_its_exclude_file(tmp_path: Path):
    origin = make_git_repo(tmp_path / "origin")
    git(origin, "branch", "-m", "main", "trunk")
    git(tmp_path, "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    git(clone, "switch", "-q", "-c", "feature")
    assert await inspect(GitRunner(clone)) == Repository(
        True, clone / ".git" / "info" / "exclude", "trunk", "feature"
    )


async def test_without_a_remote_main_or_master_is_the_default(tmp_path: Path):
    repo = make_git_repo(tmp_path / "ws")
    git(repo, "branch", "-m", "main", "master")
    git(repo, "switch", "-q", "-c", "work")
    found = await inspect(GitRunner(repo))
    assert (found.default_branch, found.current_branch) == ("master", "work")


async def test_a_detached_head_or_a_new_repository(tmp_path: Path):
    repo = make_git_repo(tmp_path / "ws")
    git(repo, "branch", "-m", "main", "topic")
    git(repo, "switch", "-q", "--detach")
    found = await inspect(GitRunner(repo))
    assert (found.default_branch, found.current_branch) == (None, None)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "start")
    found = await inspect(GitRunner(fresh))
    assert (found.is_worktree, found.default_branch, found.current_branch) == (
        True,
        "start",
        "start",
    )


async def test_a_plain_folder_is_no_repository(tmp_path: Path):
    assert await inspect(GitRunner(tmp_path)) == Repository(False, None, None, None)


async def test_a_subfolder_knows_its_prefix(tmp_path: Path):
    top = make_git_repo(tmp_path / "ws", {"a/b/c.py": "x = 1\n"})
    found = await inspect(GitRunner(top / "a" / "b"))
    assert (found.is_worktree, found.prefix) == (True, "a/b/")
    assert (await inspect(GitRunner(top))).prefix == ""


def test_a_subfolders_state_folder_is_excluded_at_the_folder(tmp_path: Path):
    """The repository's own ``info/exclude`` is read from its top: ``/.devfactory/`` there
    would leave ``pkg/.devfactory/`` untracked in the user's ``git status``."""
    exclude = tmp_path / "info" / "exclude"
    exclude_state_dir(exclude, "my pkg/[x]/")
    exclude_state_dir(exclude, "my pkg/[x]/")
    assert exclude.read_text() == (
        "# DevFactory state (added by the devfactory daemon)\n/my\\ pkg/\\[x]/.devfactory/\n"
    )


def test_the_state_folder_is_excluded_once(tmp_path: Path):
    exclude = tmp_path / "info" / "exclude"
    exclude.parent.mkdir()
    exclude.write_text("*.log")
    exclude_state_dir(exclude)
    exclude_state_dir(exclude)
    assert exclude.read_text() == (
        "*.log\n# DevFactory state (added by the devfactory daemon)\n/.devfactory/\n"
    )


def test_a_literal_pattern_ignores_its_path_and_nothing_else(tmp_path: Path):
    """Names git would read as pattern syntax (``!``, ``#``, ``*``, ``?``, ``[``, spaces) are
    escaped, and anchored: ``/a*`` must not ignore ``ab`` nor ``sub/a*``."""
    names = ["!bang", "#hash", "a*", "q?", "[x]", "trail ", "back\\slash"]
    decoys = ["ab", "qq", "x", "sub/a*", "trail"]
    top = make_git_repo(tmp_path / "ws", dict.fromkeys([*names, *decoys], "x\n"))
    (top / ".git" / "info" / "exclude").write_text(
        "".join(f"{literal_pattern(name)}\n" for name in names)
    )
    ignored = git(top, "ls-files", "-z", "--ignored", "--cached", "--exclude-standard")
    assert sorted(ignored.split("\0")[:-1]) == sorted(names)
    assert literal_pattern("line\nbreak") is None
