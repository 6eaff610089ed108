"""Per-step checkpoints of a run's worktree: recorded only on change, rewound to exact bytes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from devfactory.server.paths import StatePaths
from devfactory.server.workspace.checkpoints import CheckpointService
from devfactory.server.workspace.repository import WorkspaceRepository
from devfactory.server.workspace.restore import RestoreRefused
from devfactory.server.workspace.worktrees import WorktreeManager
from support import git, make_git_repo

RUN = 7


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture
async def setup(tmp_path: Path) -> tuple[CheckpointService, Path, str]:
    root = make_git_repo(
        tmp_path / "ws", {"calc.py": "def add(a, b):\n    return a - b\n", ".gitignore": "*.log\n"}
    )
    paths = StatePaths(root)
    paths.ensure()
    repo = WorkspaceRepository(paths, private=False, audit=None)
    base = git(root, "rev-parse", "HEAD").strip()
    worktree = await WorktreeManager(repo, paths).create(RUN, "agent/run-7", base)
    return CheckpointService(repo), worktree, base


async def test_only_steps_that_change_the_worktree_are_checkpointed(setup) -> None:
    service, worktree, base = setup
    assert await service.record(RUN, worktree, 1, base) is None  # nothing changed yet
    (worktree / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    first = await service.record(RUN, worktree, 2, base)
    assert first is not None and first[1] == ["calc.py"]
    assert await service.record(RUN, worktree, 3, base) is None
    (worktree / "made_by_a_command.txt").write_bytes(b"\x00binary\xff")
    second = await service.record(RUN, worktree, 4, base)
    assert second is not None and second[1] == ["made_by_a_command.txt"]
    assert [c.step for c in await service.all(RUN)] == [2, 4]
    parent = git(worktree, "rev-parse", f"{second[0].commit}^").strip()
    assert parent == first[0].commit  # a chain: each checkpoint stores only what changed
    assert git(worktree, "status", "--porcelain") != ""  # the worktree's own index untouched


async def test_a_write_in_the_second_the_index_was_written_is_seen(setup) -> None:
    """Git trusts a file whose stat matches its index entry unless the entry is as new as
    the index file (racy git). The scratch index must keep the seed's time, or a same-size
    write in the second of the checkout goes unseen, as in a fast run's first steps."""
    service, worktree, base = setup
    git(worktree, "config", "core.trustctime", "false")  # this test forges mtimes, not ctimes
    calc, past = worktree / "calc.py", time.time() - 100
    os.utime(calc, (past, past))
    git(worktree, "update-index", "--refresh")  # the entry now holds that second
    index = Path(
        git(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index").strip()
    )
    os.utime(index, (past, past))  # ...and so does the index: written in the same second
    calc.write_text("def add(a, b):\n    return a + b\n")  # the same size
    os.utime(calc, (past, past))  # within that second
    first = await service.record(RUN, worktree, 1, base)
    assert first is not None and first[1] == ["calc.py"]
    assert await service.record(RUN, worktree, 2, base) is None


async def test_rewind_restores_exact_bytes_and_forgets_later_checkpoints(setup) -> None:
    service, worktree, base = setup
    start = files_of(worktree)
    (worktree / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    os.chmod(worktree / "calc.py", 0o755)
    await service.record(RUN, worktree, 1, base)
    after_one = files_of(worktree)
    (worktree / "calc.py").write_text("broken\n")
    (worktree / "sub").mkdir()
    (worktree / "sub" / "made_by_a_shell.txt").write_text("from `echo > file`\n")
    (worktree / "debug.log").write_text("ignored by git: never checkpointed\n")
    await service.record(RUN, worktree, 2, base)

    restored, files = await service.rewind(RUN, worktree, 1, base)
    assert restored.step == 1 and files == ["calc.py", "sub/made_by_a_shell.txt"]
    assert files_of(worktree) == {**after_one, "debug.log": b"ignored by git: never checkpointed\n"}
    assert os.stat(worktree / "calc.py").st_mode & 0o777 == 0o755
    assert not (worktree / "sub").exists()
    assert [c.step for c in await service.all(RUN)] == [1]

    await service.rewind(RUN, worktree, 0, base)  # step 0: as the run found it
    assert {k: v for k, v in files_of(worktree).items() if k != "debug.log"} == start
    assert await service.all(RUN) == []


async def test_rewind_never_writes_through_a_link_the_run_planted(setup, tmp_path: Path) -> None:
    service, worktree, base = setup
    outside = tmp_path / "outside"
    outside.mkdir()
    (worktree / "pkg").mkdir()
    (worktree / "pkg" / "mod.py").write_text("x = 1\n")
    await service.record(RUN, worktree, 1, base)
    (worktree / "pkg" / "mod.py").unlink()
    (worktree / "pkg").rmdir()
    os.symlink(outside, worktree / "pkg")  # a command swaps the folder for a link out
    await service.record(RUN, worktree, 2, base)
    await service.rewind(RUN, worktree, 1, base)
    assert list(outside.iterdir()) == []
    assert (worktree / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert not (worktree / "pkg").is_symlink()


async def test_a_rewind_that_would_trample_ignored_files_changes_nothing(setup) -> None:
    service, worktree, base = setup
    (worktree / "data").write_text("a file\n")
    await service.record(RUN, worktree, 1, base)
    (worktree / "data").unlink()
    (worktree / "data").mkdir()
    (worktree / "data" / "ignored.log").write_text("git does not see me\n")
    with pytest.raises(RestoreRefused, match="data is a folder holding data/ignored.log"):
        await service.rewind(RUN, worktree, 1, base)
    assert (worktree / "data" / "ignored.log").exists()
