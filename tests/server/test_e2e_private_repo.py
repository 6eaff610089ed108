"""A workspace that is not a git repository gets a private one under ``.devfactory/``:
runs, worktrees and snapshots work the same, and no ``.git`` appears in the user's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.enums import RunStatus
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Project
from devfactory.protocol.snapshots import (
    SnapshotCreateParams,
    SnapshotRestoreParams,
    SnapshotRestoreResult,
)
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
from support import DaemonClient, git, write_files

pytestmark = pytest.mark.asyncio(loop_scope="module")

FILES = {"calc.py": "def add(a, b):\n    return a - b\n", "docs/notes.md": "# notes\n"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plain") / "project"
    write_files(root, FILES)
    return root


daemon = shared_daemon({**RUN_OPTIONS, "maxConcurrentRuns": 2})


async def test_runs_work_in_a_folder_without_git(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    project: Project = await daemon.call(Requests.PROJECT_INFO)
    assert (project.current_branch, project.default_branch) == (None, None)
    edit = call("edit_file", path="calc.py", search="a - b", replace="a + b")
    scripts = [
        write_script(tmp_path, f"run{n}", [turn("1. Fix"), turn("", edit), finish()])
        for n in range(2)
    ]
    # Two at once: both snapshot the workspace through the one private index.
    runs = [await create_run(daemon, script) for script in scripts]
    for run in runs:
        done = await wait_finished(daemon, run.id)
        assert done.status is RunStatus.COMPLETED, done.failed_reason
        worktree = Path(done.worktree_path or "")
        assert (worktree / "calc.py").read_text() == FILES["calc.py"].replace("-", "+")
        assert (worktree / "docs/notes.md").read_text() == FILES["docs/notes.md"]

    private = workspace / ".devfactory" / "repo.git"
    assert (private / "HEAD").is_file()
    assert not (workspace / ".git").exists()
    assert (workspace / "calc.py").read_text() == FILES["calc.py"]
    refs = git(private, "for-each-ref", "--format=%(refname)", "refs/devfactory/snapshots")
    assert len(refs.split()) == 4  # pre_run and final of each run
    tracked = git(private, "ls-tree", "-r", "--name-only", "--full-tree", refs.split()[0])
    assert tracked.split() == ["calc.py", "docs/notes.md"], ".devfactory/ is never snapshotted"


async def test_snapshots_restore_in_a_folder_without_git(daemon: DaemonClient, workspace: Path):
    snapshot = await daemon.call(Requests.SNAPSHOTS_CREATE, SnapshotCreateParams())
    write_files(workspace, {"calc.py": "broken\n", "scratch.txt": "temp\n"})
    result: SnapshotRestoreResult = await daemon.call(
        Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=snapshot.id)
    )
    assert result.files == ["calc.py", "scratch.txt"]
    assert (workspace / "calc.py").read_text() == FILES["calc.py"]
    assert not (workspace / "scratch.txt").exists()
    await daemon.call(
        Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=result.safety.id)
    )
    assert (workspace / "calc.py").read_text() == "broken\n"
    assert (workspace / "scratch.txt").read_text() == "temp\n"
    assert not (workspace / ".git").exists()
