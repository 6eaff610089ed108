"""The pids cgroups that a daemon killed with -9 left behind are removed by the next one.

Needs a writable pids controller (root, or a delegated cgroup v2 subtree); skipped elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from devfactory.server.execution.cgroups import PidsController


@pytest.fixture
def controller() -> PidsController:
    found = PidsController.detect()
    if found is None:
        pytest.skip("no writable pids cgroup controller here")
    return found


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
            time.sleep(0.01)  # until it joined the cgroup
        removed = controller.remove_stale()
        assert sorted(removed) == sorted([empty.path.name, busy.path.name])
        assert not empty.path.exists() and not busy.path.exists()
        assert orphan.wait(timeout=10) == -9, "what ran in the stale cgroup was ended"
        assert mine.path.is_dir(), "a live daemon's cgroup is left alone"
    finally:
        orphan.kill()
        mine.remove()
