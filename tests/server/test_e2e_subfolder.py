"""A workspace that is a folder inside a repository (``repo/pkg`` of a monorepo) works like any
other: runs, their changes and snapshots are the folder's, kept in a private repository that
ignores what the enclosing repository ignores; the user's repository gets no branch, no ref
and no untracked ``.devfactory``."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.changes import ChangeDecisionResult, ChangeList
from devfactory.protocol.enums import RunStatus
from devfactory.protocol.methods import Requests
from devfactory.protocol.snapshots import SnapshotCreateParams, SnapshotRestoreParams
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    shared_daemon,
    turn,
    wait_finished,
    write_script,
)
from support import DaemonClient, git, make_git_repo, write_files

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRACKED = {
    ".gitignore": "node_modules/\n*.log\n",
    "pkg/calc.py": "def add(a, b):\n    return a - b\n",
    "other/keep.py": "KEEP = 1\n",
}
IGNORED = {"pkg/node_modules/lib.js": "module.exports = 1\n", "pkg/debug.log": "noise\n"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = make_git_repo(tmp_path_factory.mktemp("mono") / "repo", TRACKED)
    git(top, "remote", "add", "origin", str(top.parent / "origin.git"))
    write_files(top, IGNORED)
    return top / "pkg"


daemon = shared_daemon(RUN_OPTIONS)


async def test_a_run_in_a_subfolder_proposes_and_applies_the_folders_paths(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    top = workspace.parent
    edit = call("edit_file", path="calc.py", search="a - b", replace="a + b")
    script = write_script(tmp_path, "fix", [turn("1. Fix"), turn("", edit), finish()])
    run = await wait_finished(daemon, (await create_run(daemon, script)).id)
    assert run.status is RunStatus.COMPLETED, run.failed_reason
    worktree = Path(run.worktree_path or "")
    assert sorted(p.name for p in worktree.iterdir()) == [".git", "CHANGELOG_AI.md", "calc.py"]

    listed: ChangeList = await daemon.call(Requests.CHANGES_LIST, {"runId": run.id})
    assert sorted(c.path for c in listed.changes) == ["CHANGELOG_AI.md", "calc.py"]
    result: ChangeDecisionResult = await daemon.call(Requests.CHANGES_APPROVE, {"runId": run.id})
    assert sorted(c.path for c in result.changes) == ["CHANGELOG_AI.md", "calc.py"]
    assert (workspace / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"

    # The user's repository: the edits, and nothing of ours.
    status = git(top, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert status == [" M pkg/calc.py", "?? pkg/CHANGELOG_AI.md"]
    assert git(top, "branch", "--list").strip() == "* main"
    assert git(top, "for-each-ref", "refs/devfactory").strip() == ""

    with pytest.raises(Exception, match="private repository.*commit them in your repository"):
        await daemon.call(Requests.GIT_PUSH, {"runId": run.id, "remote": "origin"})


async def test_snapshots_leave_out_what_the_enclosing_repository_ignores(
    daemon: DaemonClient, workspace: Path
):
    snapshot = await daemon.call(Requests.SNAPSHOTS_CREATE, SnapshotCreateParams())
    private = workspace / ".devfactory" / "repo.git"
    tree = git(private, "ls-tree", "-r", "--name-only", "--full-tree", snapshot.commit_sha)
    names = tree.split()
    assert "calc.py" in names
    assert [n for n in names if n.endswith(".log") or n.startswith("node_modules/")] == [], (
        "node_modules/ and *.log are ignored above the folder"
    )

    write_files(workspace, {"calc.py": "broken\n", "new.py": "x = 1\n", "more.log": "x\n"})
    result = await daemon.call(
        Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=snapshot.id)
    )
    assert result.files == ["calc.py", "new.py"]
    assert not (workspace / "new.py").exists()
    assert (workspace / "more.log").read_text() == "x\n", "an ignored file is not the restore's"
    assert (workspace / "node_modules" / "lib.js").exists()
