"""Daemon lock files: telling a live daemon's runs from ones a crashed daemon left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from devfactory.server.runs.ownership import HOST, DaemonLock

HOLD_LOCK = """
import sys, time
from pathlib import Path
from devfactory.server.runs.ownership import DaemonLock
lock = DaemonLock(Path(sys.argv[1]))
print(lock.name, flush=True)
time.sleep(600)
"""


def test_a_lock_names_its_process_and_knows_itself(tmp_path: Path):
    lock = DaemonLock(tmp_path / "daemons")
    assert DaemonLock.pid_of(lock.name) == str(os.getpid())
    assert (tmp_path / "daemons" / f"{lock.name}.lock").is_file()
    assert lock.is_alive(lock.name)
    assert not lock.is_alive(None)
    lock.release()
    assert not (tmp_path / "daemons" / f"{lock.name}.lock").exists()
    lock.release()  # twice is harmless


def test_another_live_daemon_is_alive_until_it_releases(tmp_path: Path):
    mine, other = DaemonLock(tmp_path), DaemonLock(tmp_path)
    assert mine.is_alive(other.name)
    other.release()
    assert not mine.is_alive(other.name)
    mine.release()


def test_an_unknown_owner_is_dead(tmp_path: Path):
    lock = DaemonLock(tmp_path)
    assert not lock.is_alive("4242-deadbeef")
    assert not lock.is_alive(f"4242-deadbeef@{HOST}")
    lock.release()


def test_another_machines_daemon_is_not_ours_to_judge(tmp_path: Path):
    """On a team's database a project's runs are shared across machines: a daemon must not
    fail the runs of a daemon elsewhere, whose lock file it cannot see."""
    lock = DaemonLock(tmp_path)
    assert lock.name.endswith(f"@{HOST}")
    assert lock.is_alive("4242-deadbeef@another-machine")
    assert DaemonLock.pid_of("4242-deadbeef@another-machine") == "4242"
    lock.release()


def test_a_daemon_killed_with_sigkill_is_dead_and_its_lock_file_is_cleared(tmp_path: Path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        name = holder.stdout.readline().strip()
        lock = DaemonLock(tmp_path)
        assert DaemonLock.pid_of(name) == str(holder.pid)
        assert lock.is_alive(name)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert (tmp_path / f"{name}.lock").exists(), "kill -9 leaves the file behind"
        assert not lock.is_alive(name)
        assert not (tmp_path / f"{name}.lock").exists()
        lock.release()
    finally:
        holder.kill()
        holder.wait()
