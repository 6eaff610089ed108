"""The one path resolver (``safefs``) against hostile input: names, links, pipes, huge files.

Every file operation the daemon performs for a run goes through ``SafeTree``; these tables try
each operation on each hostile layout and check that it is refused and that nothing outside
the tree was read, written or deleted. The daemon-level suite is
tests/server/test_e2e_path_safety.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from acp.schema import ClientCapabilities, FileSystemCapabilities

from devfactory.protocol.settings import CommandSettings, Settings
from devfactory.server.adapters.acp.files import EditorFiles
from devfactory.server.project.files import is_build_junk
from devfactory.server.runs.ownership import pid_alive
from devfactory.server.runs.preparation import write_back
from devfactory.server.safefs import (
    FileTooLarge,
    PathRefused,
    SafeTree,
    check_path,
    protected_files,
)
from devfactory.server.workspace.lock import WorkspaceLock
from fakes.acp_editor import FakeEditor

SECRET = "top secret\n"
PROTECTED = frozenset({"devfactory.toml", "tools/policy.toml"})

HOSTILE_NAMES = [
    ("", "is empty"),
    ("/etc/passwd", "is absolute"),
    ("../outside.txt", "points outside the project"),
    ("src/../../outside.txt", "points outside the project"),
    ("..\\outside.txt", "a backslash"),
    ("src\\app.py", "a backslash"),
    (".git/config", "is inside .git"),
    ("sub/.git/config", "is inside .git"),
    ("sub/.GIT/hooks/post-checkout", "is inside .git"),
    ("sub/.Git./config", "is inside .git"),
    ("GIT~1/config", "is inside .git"),
    (".devfactory/commands.toml", "is inside .devfactory/"),
    (".DevFactory/devfactory.db", "is inside .devfactory/"),
    ("./.devfactory//diffs/change-1.after", "is inside .devfactory/"),
    ("devfactory.toml", "configures DevFactory"),
    ("DEVFACTORY.TOML", "configures DevFactory"),
    ("tools//policy.toml", "configures DevFactory"),
    ("two\nlines.txt", "U+000A"),
    ("invoice\u202etxt.exe", "U+202E"),
    ("isolate\u2066.py", "U+2066"),
    ("zero\u200bwidth.py", "U+200B"),
    ("bell\a.txt", "U+0007"),
    ("undecodable-\udcff.txt", "U+DCFF"),
    (" app.py", "whitespace"),
    (".", "names the project root"),
]


@pytest.mark.parametrize(("rel", "reason"), HOSTILE_NAMES)
def test_hostile_names_are_refused_with_a_reason_the_model_can_act_on(rel: str, reason: str):
    with pytest.raises(PathRefused, match=re.escape(reason)) as refused:
        check_path(rel, PROTECTED)
    assert "\n" not in str(refused.value) and "\u202e" not in str(refused.value)


@pytest.mark.parametrize(
    ("rel", "clean"),
    [
        ("./src//app.py", "src/app.py"),
        (".gitignore", ".gitignore"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        ("docs/.devfactory/notes.md", "docs/.devfactory/notes.md"),  # only the top one is ours
        ("tools/devfactory.toml", "tools/devfactory.toml"),
        ("café/naïve résumé.py", "café/naïve résumé.py"),
        ("src/", "src"),
    ],
)
def test_ordinary_names_pass_in_their_clean_form(rel: str, clean: str):
    assert check_path(rel, PROTECTED) == clean


@pytest.mark.parametrize(
    ("policy_file", "expected"),
    [
        (None, {"devfactory.toml"}),
        ("tools/Policy.toml", {"devfactory.toml", "tools/policy.toml"}),
        ("./tools/../commands.toml", {"devfactory.toml", "commands.toml"}),
        ("/elsewhere/policy.toml", {"devfactory.toml"}),
    ],
)
def test_the_files_that_configure_devfactory_are_protected(
    tmp_path: Path, policy_file: str | None, expected: set[str]
):
    settings = Settings(commands=CommandSettings(policy_file=policy_file))
    assert protected_files(tmp_path, settings) == expected


def test_an_absolute_policy_file_inside_the_workspace_is_protected(tmp_path: Path):
    settings = Settings(commands=CommandSettings(policy_file=str(tmp_path / "ci" / "p.toml")))
    assert "ci/p.toml" in protected_files(tmp_path, settings)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    return folder


@pytest.fixture
def tree(tmp_path: Path, outside: Path) -> SafeTree:
    root = tmp_path / "workspace"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("x = 1\n")
    os.symlink(outside, root / "ext")  # a folder link pointing out
    os.symlink(outside / "secret.txt", root / "leak.txt")  # a file link pointing out
    os.symlink("src/app.py", root / "alias.py")  # a link that stays inside
    os.mkfifo(root / "pipe")  # reading it naively would hang the daemon
    with open(root / "huge.bin", "wb") as handle:
        handle.truncate(1024 * 1024 * 1024)  # sparse: 1 GiB that costs nothing on disk
    return SafeTree(root, PROTECTED)


OPERATIONS: list[tuple[str, Any, type[Exception], str]] = [
    ("read a link out", lambda t: t.read("leak.txt", 1000), PathRefused, "symbolic link"),
    ("read through a folder link", lambda t: t.read("ext/secret.txt", 1000), PathRefused, "ext"),
    ("read a link inside", lambda t: t.read("alias.py", 1000), PathRefused, "symbolic link"),
    ("read a pipe", lambda t: t.read("pipe", 1000), PathRefused, "socket or pipe"),
    ("read a huge file", lambda t: t.read("huge.bin", 1 << 20), FileTooLarge, "1.0 GiB"),
    ("read a folder", lambda t: t.read("src", 1000), PathRefused, "a folder"),
    ("write through a folder link", lambda t: t.write("ext/x.txt", b"x"), PathRefused, "ext"),
    ("write over a link", lambda t: t.write("leak.txt", b"x"), PathRefused, "symbolic link"),
    ("write over a folder", lambda t: t.write("src", b"x"), PathRefused, "a folder"),
    ("write into .git", lambda t: t.write("sub/.git/config", b"x"), PathRefused, ".git"),
    ("write a protected file", lambda t: t.write("devfactory.toml", b"x"), PathRefused, "config"),
    ("delete through a link", lambda t: t.delete("ext/secret.txt"), PathRefused, "ext"),
    ("delete a folder", lambda t: t.delete("src"), PathRefused, "a folder"),
    ("lstat through a link", lambda t: t.lstat("ext/secret.txt"), PathRefused, "ext"),
    ("link through a link", lambda t: t.symlink("ext/x", "y"), PathRefused, "ext"),
    ("link out", lambda t: t.symlink("new", "/etc/passwd"), PathRefused, "links outside"),
    ("link climbing out", lambda t: t.symlink("src/new", "../../x"), PathRefused, "outside"),
    ("link into .git", lambda t: t.symlink("new", "src/../.git/config"), PathRefused, ".git"),
    (
        "link to a protected file",
        lambda t: t.symlink("n", "devfactory.toml"),
        PathRefused,
        "config",
    ),
    ("resolve a link out", lambda t: t.resolve("leak.txt"), PathRefused, "points outside"),
    ("resolve through a link", lambda t: t.resolve("ext/secret.txt"), PathRefused, "outside"),
    ("list a folder link", lambda t: t.list_dir("ext"), PathRefused, "ext is a symbolic link"),
    ("list a file", lambda t: t.list_dir("src/app.py"), PathRefused, "not a folder"),
    ("list inside .git", lambda t: t.list_dir(".git/hooks"), PathRefused, ".git"),
]


@pytest.mark.parametrize(
    ("operation", "error", "reason"),
    [pytest.param(op, error, reason, id=name) for name, op, error, reason in OPERATIONS],
)
def test_every_operation_refuses_links_out_pipes_and_huge_files(
    tree: SafeTree, outside: Path, operation: Any, error: type[Exception], reason: str
):
    with pytest.raises(error, match=reason):
        operation(tree)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SECRET


def test_listing_a_folder_names_its_regular_files_only(tree: SafeTree):
    (tree.root / "src" / "b.md").write_text("b")
    os.symlink("../leak.txt", tree.root / "src" / "link.md")
    (tree.root / "src" / "sub").mkdir()
    assert tree.list_dir("src") == ["app.py", "b.md"]
    assert tree.list_dir("missing") is None


def test_links_that_stay_inside_resolve_to_their_target(tree: SafeTree):
    assert tree.resolve("alias.py") == "src/app.py"
    assert tree.read(tree.resolve("alias.py"), 100) == b"x = 1\n"


def test_links_that_stay_inside_are_written_as_they_are(tree: SafeTree):
    tree.symlink("src/up.py", "../alias.py")
    tree.symlink("src/same.py", "./app.py")
    assert os.readlink(tree.root / "src" / "up.py") == "../alias.py"
    assert (tree.root / "src" / "same.py").read_text() == "x = 1\n"


def test_a_link_into_git_or_devfactory_is_refused_like_the_path(tree: SafeTree):
    (tree.root / ".devfactory").mkdir()
    os.symlink(".devfactory", tree.root / "state")
    with pytest.raises(PathRefused, match="inside .devfactory/"):
        tree.resolve("state/commands.toml")


def test_a_folder_swapped_for_a_link_after_the_check_stops_the_write(tree: SafeTree, outside: Path):
    rel = tree.resolve("src/app.py")
    (tree.root / "src" / "app.py").unlink()
    (tree.root / "src").rmdir()
    os.symlink(outside, tree.root / "src")  # what a racing command could do
    with pytest.raises(PathRefused, match="src is a symbolic link"):
        tree.write(rel, b"planted")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_writes_are_atomic_keep_the_mode_and_create_folders(tree: SafeTree):
    script = tree.root / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    tree.write("run.sh", b"new")
    tree.write("deep/er/new.txt", b"hi")
    assert (script.read_text(), script.stat().st_mode & 0o777) == ("new", 0o755)
    assert (tree.root / "deep/er/new.txt").read_bytes() == b"hi"
    assert not [p for p in tree.root.rglob("*.devfactory")]


def test_deleting_a_link_removes_the_link_never_its_target(tree: SafeTree, outside: Path):
    assert tree.delete("leak.txt") is True
    assert not os.path.lexists(tree.root / "leak.txt")
    assert (outside / "secret.txt").read_text() == SECRET
    assert tree.delete("leak.txt") is False


@pytest.mark.parametrize(
    ("path", "junk"),
    [
        ("__pycache__/app.cpython-311.pyc", True),
        ("pkg/sub/__pycache__/m.cpython-311.pyc", True),
        ("legacy.pyc", True),
        (".pytest_cache/v/cache/lastfailed", True),
        ("node_modules/left-pad/index.js", True),
        ("web/node_modules/x/y.js", True),
        ("pkg.egg-info/PKG-INFO", True),
        ("build/lib/pkg/__init__.py", True),
        ("dist/pkg-1.0.tar.gz", True),
        (".venv/bin/python", True),
        (".coverage", True),
        ("src/build/steps.py", False),  # only the top-level build/ is output
        ("app.py", False),
        ("docs/distribution.md", False),
    ],
)
def test_build_output_is_recognised(path: str, junk: bool):
    assert is_build_junk(path) is junk


async def test_the_workspace_lock_orders_two_holders_on_the_same_file(tmp_path: Path):
    first, second = WorkspaceLock(tmp_path / "w.lock"), WorkspaceLock(tmp_path / "w.lock")
    order: list[str] = []
    release = asyncio.Event()

    async def hold(lock: WorkspaceLock, name: str, wait: asyncio.Event | None) -> None:
        async with lock.hold():
            order.append(f"{name} in")
            if wait is not None:
                await wait.wait()
            order.append(f"{name} out")

    holder = asyncio.ensure_future(hold(first, "first", release))
    while not order:
        await asyncio.sleep(0)
    waiter = asyncio.ensure_future(hold(second, "second", None))
    for _ in range(5):  # the second polls the flock several times, and must not get in
        await asyncio.sleep(0.06)
    assert order == ["first in"]
    release.set()
    await asyncio.gather(holder, waiter)
    assert order == ["first in", "first out", "second in", "second out"]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temp_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    """A daemon killed between writing an atomic write's temp file and renaming it leaves the
    temp file next to the user's file: the next daemon removes it, never a live writer's, and
    never through a link."""
    root, outside = tmp_path / "ws", tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    tree = SafeTree(root)
    tree.write("src/app.py", b"new\n")
    stale = root / "src" / f".app.py.{dead_pid()}.0a1b2c3d.devfactory"
    live = root / "src" / f".app.py.{os.getpid()}.9f8e7d6c.devfactory"
    unrelated = root / "src" / ".app.py.devfactory"
    beyond_link = outside / stale.name
    for path in (stale, live, unrelated, beyond_link):
        path.write_bytes(b"half")
    (root / "linked").symlink_to(outside)

    rels = ["src/app.py", "src/other.py", "gone/x.py", "linked/a.py"]
    assert tree.remove_stale_temps(rels, pid_alive) == 1
    assert sorted(p.name for p in (root / "src").iterdir()) == sorted(
        ["app.py", live.name, unrelated.name]
    )
    assert (root / "src" / "app.py").read_bytes() == b"new\n"
    assert beyond_link.exists()


# -- paths from the database: a taken-over run's files, the file ACP shows the editor ---------
# A run taken over on another machine gets its proposed files written back into its new
# worktree (``runs.preparation.write_back``); the ACP adapter gives the editor the file it just
# applied (``EditorFiles.show_applied``). Both take paths the database holds, as whoever edits
# the team's database would name them.


@pytest.fixture
def worktree(tmp_path: Path, outside: Path) -> Path:
    root = tmp_path / "worktree"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "old.py").write_text("old = 1\n")
    (root / "vendor" / ".git").mkdir(parents=True)  # a nested repository
    os.symlink(outside, root / "ext")  # a folder link pointing out
    os.symlink(outside / "secret.txt", root / "leak.txt")  # a file link pointing out
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        ("ext/planted.txt", "ext"),
        ("leak.txt", "symbolic link"),
        ("../planted.txt", "outside the project"),
        ("vendor/.git/hooks/post-checkout", ".git"),
        (".git/hooks/post-checkout", ".git"),
        (".devfactory/devfactory.db", ".devfactory"),
        ("devfactory.toml", "configures DevFactory"),
    ],
)
def test_a_taken_over_run_writes_back_no_hostile_path(
    worktree: Path, outside: Path, hostile: str, reason: str
) -> None:
    before, secret_before = snapshot(worktree), snapshot(outside)
    tree = SafeTree(worktree, protected_files(worktree, Settings()))
    files: list[tuple[str, bytes | None]] = [("pkg/new.py", b"new = 1\n"), (hostile, b"x")]
    with pytest.raises(PathRefused, match=reason):
        write_back(tree, files)
    assert snapshot(outside) == secret_before, "nothing written or changed outside"
    if not hostile.startswith(("ext/", "leak")):  # refused by name: before any write
        assert snapshot(worktree) == before
    assert (outside / "secret.txt").read_text() == SECRET
    assert not (worktree.parent / "planted.txt").exists()


def test_a_taken_over_run_writes_back_its_files_and_deletions(worktree: Path) -> None:
    tree = SafeTree(worktree, protected_files(worktree, Settings()))
    write_back(tree, [("pkg/new.py", b"new = 1\n"), ("pkg/old.py", None), ("a/b/c.txt", b"c")])
    assert (worktree / "pkg" / "new.py").read_bytes() == b"new = 1\n"
    assert not (worktree / "pkg" / "old.py").exists()
    assert (worktree / "a" / "b" / "c.txt").read_bytes() == b"c"


def editor_files(root: Path, editor: FakeEditor) -> EditorFiles:
    capabilities = ClientCapabilities(
        fs=FileSystemCapabilities(read_text_file=True, write_text_file=True)
    )
    return EditorFiles(root, "session", editor, capabilities)  # type: ignore[arg-type]


@pytest.mark.parametrize("hostile", ["leak.txt", "ext/secret.txt", "vendor/.git/config"])
async def test_acp_never_shows_the_editor_a_file_through_a_link_or_inside_git(
    worktree: Path, hostile: str
) -> None:
    (worktree / "vendor" / ".git" / "config").write_text("[core]\n")
    editor = FakeEditor()
    await editor_files(worktree, editor).show_applied(hostile)
    assert editor.writes == {}


async def test_acp_shows_the_editor_the_file_as_applied(worktree: Path) -> None:
    editor = FakeEditor()
    await editor_files(worktree, editor).show_applied("pkg/old.py")
    assert editor.writes == {str(worktree / "pkg" / "old.py"): "old = 1\n"}
