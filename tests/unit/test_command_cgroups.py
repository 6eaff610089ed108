"""The pids cgroups that a daemon killed with -9 left behind are removed by the next one.

Needs a writable pids controller (root, or a delegated cgroup v2 subtree); skipped elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from devfactory.server.execution.cgroups import PidsController


@pytest.fixture
def controller() -> Iterator[PidsController]:
    """A controller over a folder of this test's own.

    Every daemon that starts cleans the shared folder, and the cgroups this test forges look
    stale to them (their owner is dead): a daemon started by a test running beside this one
    removed them before the test could, and the test waited forever.
    """
    shared = PidsController.detect()
    if shared is None:
        pytest.skip("no writable pids cgroup controller here")
    base = shared.base / f"{os.getpid()}-tests"  # a live owner: other daemons leave it alone
    base.mkdir()
    if (shared.base / "cgroup.subtree_control").is_file():  # cgroup v2 delegates per level
        (base / "cgroup.subtree_control").write_text("+pids")
    try:
        yield PidsController(base)
    finally:
        base.rmdir()


def dead_pid() -> int:
    """The pid of a process that has exited (a daemon killed with -9)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_cgroups_of_dead_daemons_go_and_what_ran_in_them_ends(
    controller: PidsController,
) -> None:
    dead = dead_pid()
    empty = controller.create(f"{dead}-1-aaaaaaaa", 8)
    busy = controller.create(f"{dead}-2-bbbbbbbb", 8)
    mine = controller.create(f"{os.getpid()}-3-cccccccc", 8)
    orphan = subprocess.Popen(
        ["/bin/sh", "-c", 'echo $$ > "$0" && exec sleep 600', busy.procs_file]
    )
    try:
        while not busy.pids():
            assert orphan.poll() is None, "the orphan could not join its cgroup"
            time.sleep(0.01)  # until it joined the cgroup
        removed = controller.remove_stale()
        assert sorted(removed) == sorted([empty.path.name, busy.path.name])
        assert not empty.path.exists() and not busy.path.exists()
        assert orphan.wait(timeout=10) == -9, "what ran in the stale cgroup was ended"
        assert mine.path.is_dir(), "a live daemon's cgroup is left alone"
    finally:
        orphan.kill()
        mine.remove()
