"""Restoring snapshots over the real daemon when paths changed type or were tampered with.

A restore never follows a link (for a delete or a write), turns files, folders and links into
one another in the right order, and is all or nothing: what it cannot do safely it refuses
before touching a file, with an event, and the workspace stays as it was.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from devfactory.protocol.enums import EventType, RunStatus, SnapshotOrigin, SnapshotType
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunIdParams
from devfactory.protocol.snapshots import (
    Snapshot,
    SnapshotCreateParams,
    SnapshotList,
    SnapshotListParams,
    SnapshotRestoreParams,
    SnapshotRestoreResult,
)
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    replay,
    shared_daemon,
    turn,
    wait_finished,
    write_script,
)
from support import DaemonClient, make_git_repo

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(
        tmp_path_factory.mktemp("restore") / "project",
        {".gitignore": "*.log\n", "keep.txt": "keep\n"},
    )


daemon = shared_daemon(RUN_OPTIONS)


def entries(root: Path) -> dict[str, str]:
    """Every entry outside .git and .devfactory: a file's text, a link's target, or a folder."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".devfactory")]
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                found[rel] = "folder"
            else:
                found[rel] = path.read_text()
    return found


def remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    else:
        shutil.rmtree(path)


async def snapshot(client: DaemonClient, description: str) -> Snapshot:
    created: Snapshot = await client.call(
        Requests.SNAPSHOTS_CREATE, SnapshotCreateParams(description=description)
    )
    return created


async def restore(client: DaemonClient, snapshot_id: int) -> SnapshotRestoreResult:
    result: SnapshotRestoreResult = await client.call(
        Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=snapshot_id)
    )
    return result


async def test_links_files_and_folders_change_places_without_touching_outside(
    daemon: DaemonClient, workspace: Path, outside: Path
):
    for name in ("a", "b", "c"):
        (outside / name).mkdir()
        (outside / name / "x.txt").write_text(f"outside {name}\n")
    before_outside = entries(outside)
    # The snapshot: a is a link to c, b and c are folders.
    os.symlink("c", workspace / "a")
    for name in ("b", "c"):
        (workspace / name).mkdir()
        (workspace / name / "x.txt").write_text(f"inside {name}\n")
    snapped = entries(workspace)
    taken = await snapshot(daemon, "links and folders")
    # Then each changes type: a becomes a folder, b a link out, c a file.
    remove(workspace / "a")
    (workspace / "a").mkdir()
    (workspace / "a" / "x.txt").write_text("inside a\n")
    remove(workspace / "b")
    os.symlink(outside / "b", workspace / "b")
    remove(workspace / "c")
    (workspace / "c").write_text("c is a file now\n")

    result = await restore(daemon, taken.id)
    assert result.files == ["a", "a/x.txt", "b", "b/x.txt", "c", "c/x.txt"]
    assert entries(workspace) == snapped
    assert entries(outside) == before_outside, "a restore never deletes through a link"

    # And back would make b a link out of the workspace again: a restore never writes one.
    with pytest.raises(JsonRpcException, match="b links outside the project"):
        await restore(daemon, result.safety.id)
    assert entries(workspace) == snapped
    assert entries(outside) == before_outside
    remove(workspace / "a")  # the next tests start without these
    remove(workspace / "b")
    remove(workspace / "c")


async def test_files_git_ignores_in_the_way_stop_the_restore_before_any_change(
    daemon: DaemonClient, workspace: Path
):
    (workspace / "e").write_text("e was a file\n")
    (workspace / "keep.txt").write_text("keep, as snapshotted\n")
    taken = await snapshot(daemon, "e is a file")
    remove(workspace / "e")
    (workspace / "e").mkdir()
    (workspace / "e" / "build.log").write_text("ignored, and only here\n")
    (workspace / "keep.txt").write_text("keep, edited since\n")
    now = entries(workspace)

    with pytest.raises(JsonRpcException, match="e is a folder holding e/build.log"):
        await restore(daemon, taken.id)
    assert entries(workspace) == now, "all or nothing: keep.txt was not restored either"
    failed = [e for e in await replay(daemon) if e.type is EventType.ERROR]
    assert failed[-1].title == "Restore failed"
    assert "nothing was changed" in failed[-1].message


def hostile_tree(workspace: Path, path: str) -> str:
    """A tree with one blob at ``path`` (a name git itself would never write)."""
    blob = _git_in(workspace, ["hash-object", "-w", "--stdin"], b"sandbox = false\n")
    *folders, name = path.split("/")
    tree = _git_in(workspace, ["mktree", "-z"], f"100644 blob {blob}\t{name}\0".encode())
    for folder in reversed(folders):
        tree = _git_in(workspace, ["mktree", "-z"], f"040000 tree {tree}\t{folder}\0".encode())
    return tree


def _git_in(workspace: Path, args: list[str], data: bytes) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=workspace, input=data, capture_output=True, check=True
    )
    return completed.stdout.decode().strip()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (".devfactory/commands.toml", "is inside .devfactory/"),
        ("devfactory.toml", "configures DevFactory"),
        ("sub/.git/config", "is inside .git"),
        ("sub/.GIT/hooks/post-checkout", "is inside .git"),
        ("report\u202etxt.exe", "U+202E"),
        ("two\nlines.txt", "U+000A"),
    ],
)
async def test_a_snapshot_edited_in_the_database_cannot_write_hostile_paths(
    daemon: DaemonClient, workspace: Path, path: str, reason: str
):
    taken = await snapshot(daemon, f"to be tampered: {path!r}")
    with sqlite3.connect(workspace / ".devfactory" / "devfactory.db") as db:
        db.execute(
            "UPDATE snapshots SET tree_sha = ? WHERE id = ?",
            (hostile_tree(workspace, path), taken.id),
        )
    now = entries(workspace)
    with pytest.raises(JsonRpcException) as refused:
        await restore(daemon, taken.id)
    assert reason in str(refused.value) and "nothing was changed" in str(refused.value)
    assert entries(workspace) == now
    assert not (workspace / ".devfactory" / "commands.toml").exists()


async def wait_for_write(daemon: DaemonClient, run_id: int, rel: str) -> Path:
    """The run's worktree, once the agent wrote ``rel`` in it."""
    async with asyncio.timeout(20):
        while True:
            run: Run = await daemon.call(Requests.RUNS_GET, RunIdParams(run_id=run_id))
            if run.worktree_path and (Path(run.worktree_path) / rel).exists():
                return Path(run.worktree_path)
            await asyncio.sleep(0.05)


async def test_a_runs_worktree_snapshots_are_never_restored_into_the_workspace(
    daemon: DaemonClient, workspace: Path, outside: Path, tmp_path: Path
):
    """A run's final and pre_command snapshots hold its worktree: the agent's files, not yet
    reviewed, and what its commands left there (settings, links out)."""
    (outside / "id_rsa").write_text("SECRET\n")
    marker = tmp_path / "left-behind"
    script = write_script(
        tmp_path,
        "worktree",
        [
            turn("1. Write"),
            turn("", call("write_file", path="feature.py", content="x = 2\n")),
            turn("", wait_for_file=marker),
            turn("", call("run_command", command="ruff format feature.py")),
            finish(),
        ],
    )
    run = await create_run(daemon, script)
    worktree = await wait_for_write(daemon, run.id, "feature.py")
    (worktree / "devfactory.toml").write_text("[commands]\nsandbox = false\n")
    os.symlink(outside / "id_rsa", worktree / "notes.md")
    marker.touch()
    done = await wait_finished(daemon, run.id)
    assert done.status is RunStatus.COMPLETED, done.failed_reason
    listed: SnapshotList = await daemon.call(
        Requests.SNAPSHOTS_LIST, SnapshotListParams(run_id=run.id)
    )
    origins = {s.type: s.origin for s in listed.snapshots}
    assert origins == {
        SnapshotType.PRE_RUN: SnapshotOrigin.WORKSPACE,
        SnapshotType.PRE_COMMAND: SnapshotOrigin.WORKTREE,
        SnapshotType.FINAL: SnapshotOrigin.WORKTREE,
    }
    of_worktree = [s for s in listed.snapshots if s.origin is SnapshotOrigin.WORKTREE]
    now = entries(workspace)
    for taken in of_worktree:
        with pytest.raises(JsonRpcException) as refused:
            await restore(daemon, taken.id)
        assert f"snapshot {taken.id}" in str(refused.value)
        assert "review" in str(refused.value)
        assert entries(workspace) == now
