"""A pids cgroup per command: a ceiling on its processes and a complete list of them.

A fork bomb stops at ``max_processes`` instead of exhausting the machine's pid table before
the timeout fires, and killing reads the cgroup's member list, which a process cannot leave by
calling setsid(). This needs a writable pids controller: cgroup v1's pids hierarchy, or a
cgroup v2 subtree delegated with ``pids`` enabled (root, or ``systemd-run --user -p
Delegate=yes``). Without one, commands still run; the process-group and marker sweep in
:mod:`.processes` kill them, and ``devfactory/commands/policy`` reports the limit as inactive.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from ..runs.ownership import pid_alive

CGROUP_ROOT = Path("/sys/fs/cgroup")
JOIN_SCRIPT = 'echo $$ > "$0" && exec "$@"'
"""Run by ``/bin/sh`` before the command: move itself into the cgroup, then exec the command,
so the command and everything it forks are counted from their first instruction."""


def _own_cgroups() -> list[tuple[str, str]]:
    """(controllers, path) pairs of this process, from /proc/self/cgroup."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    return [(parts[1], parts[2]) for line in lines if len(parts := line.split(":", 2)) == 3]


def _candidate_bases() -> list[tuple[Path, bool]]:
    """Folders to create command cgroups in: (path, is_v2)."""
    found: list[tuple[Path, bool]] = []
    for controllers, path in _own_cgroups():
        relative = path.lstrip("/")
        if "pids" in controllers.split(","):
            found.append((CGROUP_ROOT / "pids" / relative / "devfactory", False))
        elif controllers == "":
            for mount in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
                if (mount / "cgroup.controllers").is_file():
                    found.append((mount / relative / "devfactory", True))
                    break
    return found


class CommandCgroup:
    """The cgroup of one running command."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def procs_file(self) -> str:
        return str(self.path / "cgroup.procs")

    def wrap(self, argv: list[str]) -> list[str]:
        return ["/bin/sh", "-c", JOIN_SCRIPT, self.procs_file, *argv]

    def pids(self) -> set[int]:
        try:
            return {int(line) for line in Path(self.procs_file).read_text().split()}
        except (OSError, ValueError):
            return set()

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


class PidsController:
    """Creates per-command pids cgroups under a base folder this process may write."""

    def __init__(self, base: Path) -> None:
        self.base = base

    @classmethod
    def detect(cls) -> PidsController | None:
        """A working controller, proven by creating and removing a probe cgroup; else None."""
        for base, is_v2 in _candidate_bases():
            try:
                base.mkdir(exist_ok=True)
                if is_v2:
                    (base / "cgroup.subtree_control").write_text("+pids")
                controller = cls(base)
                controller.create(f"probe-{os.getpid()}", 8).remove()
            except OSError:
                continue
            return controller
        return None

    def remove_stale(self) -> list[str]:
        """Remove the cgroups that daemons which died (kill -9) left behind, ending what still
        runs in them; returns their names.

        A command's cgroup is named ``<daemon pid>-...`` (a probe's ``probe-<pid>``); one whose
        daemon pid is gone is stale. A pid that is alive again is left alone.
        """
        removed = []
        for path in self.base.iterdir():
            owner = path.name.removeprefix("probe-").split("-", 1)[0]
            if not path.is_dir() or not owner.isdigit() or pid_alive(int(owner)):
                continue
            stale = CommandCgroup(path)
            for _ in range(20):
                members = stale.pids()
                if not members:
                    break
                for pid in members:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.01)
            stale.remove()
            if not path.exists():
                removed.append(path.name)
        return removed

    def create(self, name: str, max_tasks: int) -> CommandCgroup:
        path = self.base / name
        if path.is_dir():
            path.rmdir()  # left by a daemon that died with the same pid; fails if still in use
        path.mkdir()
        try:
            (path / "pids.max").write_text(str(max_tasks))
        except OSError:
            path.rmdir()
            raise
        return CommandCgroup(path)
