"""The index and snapshot restore against hostile workspaces, in process with a real database
and real git: a tracked link out is never indexed; a restore that fails half-way is rolled
back to the safety snapshot and reported."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devfactory.protocol.enums import EventType, SnapshotType
from devfactory.protocol.settings import IndexSettings, Settings
from devfactory.server.errors import InvalidState
from devfactory.server.events.bus import EventBus
from devfactory.server.index.indexer import Indexer
from devfactory.server.paths import StatePaths
from devfactory.server.safefs import SafeTree, protected_files
from devfactory.server.workspace import restore as restore_module
from devfactory.server.workspace.repository import WorkspaceRepository
from devfactory.server.workspace.restore import RestorePlan
from devfactory.server.workspace.snapshots import SnapshotService
from devfactory.storage import Store
from support import git, make_git_repo

SECRET = "AKIA-SECRET-TOKEN\n"


async def test_the_index_never_reads_through_a_tracked_link_out(store: Store, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(SECRET)
    root = make_git_repo(tmp_path / "repo", {"notes.md": "# Notes\n\nplain notes\n"})
    os.symlink(outside / "secret.md", root / "leak.md")
    os.symlink(outside, root / "vendor_docs")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "links")
    project = await store.projects.register(
        root_path=str(root), name="repo", slug="repo", default_branch=None, current_branch=None
    )
    await Indexer(store, project.id, root, IndexSettings()).sync()

    states = await store.index.file_states(project.id)
    assert {path: state.skip_reason for path, state in states.items()} == {
        "notes.md": None,
        "leak.md": "not_a_file",
        "vendor_docs": "not_a_file",
    }
    chunks = await store.index.all_chunks(project.id)
    assert [c.path for c in chunks] == ["notes.md"]
    assert not [c for c in chunks if "SECRET" in c.content]


@pytest.fixture
async def snapshots(store: Store, tmp_path: Path) -> AsyncIterator[tuple[SnapshotService, Path]]:
    root = make_git_repo(tmp_path / "ws", {"a.txt": "alpha\n", "b.txt": "beta\n"})
    project = await store.projects.register(
        root_path=str(root), name="ws", slug="ws", default_branch=None, current_branch=None
    )
    events = EventBus(store, project.id, lambda method, note: None)
    events.start()
    paths = StatePaths(root)
    paths.ensure()
    repo = WorkspaceRepository(paths, private=False, audit=None)
    yield SnapshotService(repo, store, events, project.id, protected_files(root, Settings())), root
    await events.stop()


def files_of(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith((".git/", ".devfactory"))
    }


async def test_a_restore_that_fails_half_way_is_rolled_back_and_reported(
    snapshots: tuple[SnapshotService, Path], store: Store, monkeypatch: pytest.MonkeyPatch
):
    service, root = snapshots
    snapshot = await service.create(SnapshotType.MANUAL, "the good state")
    (root / "a.txt").write_text("alpha, edited\n")
    (root / "b.txt").unlink()
    (root / "c.txt").write_text("new\n")
    edited = files_of(root)

    calls = []
    real_commit = restore_module.commit

    def fail_after_the_first_removal(tree: SafeTree, plan: RestorePlan, staging: Path) -> None:
        calls.append(plan.files)
        if len(calls) == 1:  # the restore: remove c.txt, then the disk "fails"
            tree.delete(plan.removes[0])
            raise OSError(28, "No space left on device")
        real_commit(tree, plan, staging)  # the roll-back does its work

    monkeypatch.setattr(restore_module, "commit", fail_after_the_first_removal)
    with pytest.raises(InvalidState, match="your files were put back as they were"):
        await service.restore(snapshot.id)

    assert calls[0] == ["a.txt", "b.txt", "c.txt"]
    assert files_of(root) == edited
    events = await store.events.list(snapshots[0].project_id, limit=100)
    failed = [e for e in events if e.type is EventType.ERROR]
    assert [e.title for e in failed] == ["Restore failed"]
    assert "No space left on device" in failed[0].message
    assert EventType.SNAPSHOT_RESTORED not in {e.type for e in events}
    assert not list((root / ".devfactory").glob("restore-*")), "the staging folder is gone"
