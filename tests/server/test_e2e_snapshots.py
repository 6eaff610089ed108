"""Snapshots over the real daemon: ``devfactory/snapshots/create|list|restore`` and the
pre_run snapshot a run starts from, all without touching the user's index, branches or stash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.enums import EventType, RunStatus, SnapshotType
from devfactory.protocol.events import SnapshotEvent, decode_payload
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
from support import DaemonClient, git, make_git_repo, write_files

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.both_databases(scope="module"),
]

BINARY = bytes(range(256)) * 4


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, database: str) -> Path:
    root = make_git_repo(
        tmp_path_factory.mktemp(f"snapshots-{database}") / "project",
        {
            ".gitignore": "*.log\n",
            "a.txt": "alpha\n",
            "b.txt": "beta\n",
            "data.bin": BINARY,
            "tool.sh": "#!/bin/sh\necho hi\n",
        },
    )
    os.chmod(root / "tool.sh", 0o755)
    git(root, "commit", "-qam", "executable tool")
    git(root, "branch", "feature")
    write_files(root, {"a.txt": "stashed work\n"})
    git(root, "stash", "-q")
    # The user's working state: unstaged, staged and untracked changes, an ignored file.
    write_files(root, {"a.txt": "alpha, edited\r\n", "b.txt": "beta, staged\n"})
    git(root, "add", "b.txt")
    write_files(root, {"new.txt": "untracked\n", "debug.log": "ignored\n"})
    return root


daemon = shared_daemon(RUN_OPTIONS)


def user_git_state(root: Path) -> dict[str, str]:
    """Everything of the user's repository a snapshot or restore must leave alone."""
    return {
        "index": git(root, "ls-files", "-s", "--debug"),
        "branches": "".join(
            line
            for line in git(root, "for-each-ref", "refs/heads", "refs/tags").splitlines(True)
            if "refs/heads/agent/" not in line  # runs add their own branches, nothing else
        ),
        "stash": git(root, "stash", "list", "--format=%H %s"),
        "head": git(root, "rev-parse", "HEAD"),
        "symbolic": git(root, "symbolic-ref", "HEAD"),
    }


def files_of(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file outside .git and .devfactory: bytes and whether it is executable."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith((".git/", ".devfactory/")):
            found[rel] = (path.read_bytes(), os.access(path, os.X_OK))
    return found


async def test_create_list_and_restore_is_undoable_and_leaves_git_alone(
    daemon: DaemonClient, workspace: Path
):
    before = user_git_state(workspace)
    snapshot: Snapshot = await daemon.call(
        Requests.SNAPSHOTS_CREATE, SnapshotCreateParams(description="before the experiment")
    )
    assert (snapshot.type, snapshot.description, snapshot.run_id) == (
        SnapshotType.MANUAL,
        "before the experiment",
        None,
    )
    assert snapshot.ref == f"refs/devfactory/snapshots/{snapshot.id}"
    assert git(workspace, "rev-parse", snapshot.ref).strip() == snapshot.commit_sha
    assert snapshot.files_changed == 3  # a.txt, b.txt, new.txt: not the ignored debug.log
    assert git(workspace, "show", f"{snapshot.commit_sha}:new.txt") == "untracked\n"
    assert git(workspace, "show", f"{snapshot.commit_sha}:a.txt").startswith("alpha, edited")
    assert "debug.log" not in git(workspace, "ls-tree", "-r", "--name-only", snapshot.tree_sha)
    assert user_git_state(workspace) == before
    snapped = files_of(workspace)

    # The user goes on working: edits, deletes, makes new files, drops the exec bit.
    write_files(workspace, {"a.txt": "alpha, rewritten\n", "later.txt": "later\n"})
    (workspace / "new.txt").unlink()
    (workspace / "b.txt").unlink()
    (workspace / "data.bin").write_bytes(BINARY[::-1])
    os.chmod(workspace / "tool.sh", 0o644)
    worked = files_of(workspace)

    result: SnapshotRestoreResult = await daemon.call(
        Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=snapshot.id)
    )
    assert result.restored == snapshot
    assert (result.safety.type, result.safety.description) == (
        SnapshotType.MANUAL,
        f"before restoring snapshot {snapshot.id}",
    )
    assert result.files == ["a.txt", "b.txt", "data.bin", "later.txt", "new.txt", "tool.sh"]
    assert files_of(workspace) == snapped
    assert user_git_state(workspace) == before

    undo: SnapshotRestoreResult = await daemon.call(
        Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=result.safety.id)
    )
    assert files_of(workspace) == worked, "restoring the safety snapshot undoes the restore"
    assert user_git_state(workspace) == before

    listed: SnapshotList = await daemon.call(Requests.SNAPSHOTS_LIST, SnapshotListParams())
    assert [s.id for s in listed.snapshots][:3] == [undo.safety.id, result.safety.id, snapshot.id]
    events = [e for e in await replay(daemon) if e.type is EventType.SNAPSHOT_RESTORED]
    assert [decode_payload(e) for e in events] == [
        SnapshotEvent(
            snapshot_id=snapshot.id,
            snapshot_type=SnapshotType.MANUAL,
            ref=snapshot.ref,
            safety_snapshot_id=result.safety.id,
            files=result.files,
        ),
        SnapshotEvent(
            snapshot_id=result.safety.id,
            snapshot_type=SnapshotType.MANUAL,
            ref=result.safety.ref,
            safety_snapshot_id=undo.safety.id,
            files=undo.files,
        ),
    ]


async def test_a_run_starts_from_the_users_uncommitted_state(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    write_files(workspace, {"wip.txt": "work in progress\n"})
    before, files = user_git_state(workspace), files_of(workspace)
    script = write_script(
        tmp_path,
        "read",
        [
            turn("1. Read"),
            turn("", call("edit_file", path="wip.txt", search="work", replace="done")),
            finish(),
        ],
    )
    run = await create_run(daemon, script)
    done: Run = await wait_finished(daemon, run.id)
    assert done.status is RunStatus.COMPLETED, done.failed_reason
    base = await daemon.call(Requests.SNAPSHOTS_LIST, SnapshotListParams(run_id=run.id))
    assert {s.type for s in base.snapshots} == {SnapshotType.PRE_RUN, SnapshotType.FINAL}
    pre_run = next(s for s in base.snapshots if s.type is SnapshotType.PRE_RUN)
    assert done.base_snapshot_id == pre_run.id

    worktree = Path(done.worktree_path or "")
    for rel, (content, _) in files.items():
        if rel not in ("debug.log", "wip.txt"):
            assert (worktree / rel).read_bytes() == content, rel
    assert (worktree / "wip.txt").read_text() == "done in progress\n"
    assert not (worktree / "debug.log").exists(), "ignored files stay out of snapshots"
    assert files_of(workspace) == files, "the run never writes the user's files"
    assert user_git_state(workspace) == before
    assert git(worktree, "rev-parse", "--abbrev-ref", "HEAD").strip() == done.branch_name
    fetched: Run = await daemon.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
    assert fetched == done
