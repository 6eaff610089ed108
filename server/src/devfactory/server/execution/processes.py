"""Start a command in its own process group, and end it together with everything it started.

A command is "everything it started", not one pid. Which processes those are depends on how
it is confined: its pids cgroup lists them all; otherwise a ``/proc`` sweep finds its group
and every process carrying its marker variable (even after setsid). The sandbox is no
exception: its pid namespace ends with its init (bubblewrap's inner process), but that init
ignores SIGTERM, and ``--die-with-parent`` did not reliably take it down with the outer
bubblewrap as an ordinary user, so it is swept and killed like any other member. Ending a
command sends SIGTERM to all of them, waits the grace period, then SIGKILLs until none is
left, so a grandchild, a daemonised child or a fork bomb does not survive its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .cgroups import CommandCgroup
from .environment import MARKER_VARIABLE

POLL_S = 0.05
KILL_ROUNDS = 400
_STARTTIME = 19
"""Index of ``starttime`` among the fields of /proc/<pid>/stat after the command name."""


def _stat_fields(pid: int) -> list[bytes]:
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    return stat[stat.rindex(b")") + 2 :].split()


def _start_ticks(pid: int) -> int:
    """When ``pid`` started (clock ticks since boot); 0 when unknown."""
    try:
        return int(_stat_fields(pid)[_STARTTIME])
    except (OSError, ValueError, IndexError):
        return 0


def _carries(pid: int, entry: os.DirEntry[str], uid: int, marker: bytes) -> bool:
    """Whether ``marker`` is in the environment of ``pid`` (readable: ours or we are root)."""
    if uid != 0 and entry.stat().st_uid != uid:
        return False
    return marker in Path(f"/proc/{pid}/environ").read_bytes()


def marker_entry(marker: str) -> bytes:
    """How ``marker`` appears in /proc/<pid>/environ."""
    return f"{MARKER_VARIABLE}={marker}\0".encode()


def sweep(pgid: int, marker: bytes, since_ticks: int) -> set[int]:
    """Live processes started since ``since_ticks`` that are in process group ``pgid`` or
    carry ``marker`` in their environment (blocking: reads /proc)."""
    found: set[int] = set()
    uid = os.geteuid()
    try:
        entries = os.scandir("/proc")
    except OSError:
        return found
    with entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                fields = _stat_fields(pid)
                if fields[0] in (b"Z", b"X") or int(fields[_STARTTIME]) < since_ticks:
                    continue  # a zombie, or older than the command: not one of its processes
                if int(fields[2]) == pgid or _carries(pid, entry, uid, marker):
                    found.add(pid)
            except (OSError, ValueError, IndexError):
                continue
    return found


def kill_marked(marker: str, rounds: int = 20) -> int:
    """SIGKILL every process carrying ``marker`` (the leftovers of a command whose daemon
    died) until none is left; returns how many there were (blocking: reads /proc)."""
    token = marker_entry(marker)
    killed: set[int] = set()
    for _ in range(rounds):
        found = sweep(-1, token, 0)  # no process group is -1: the marker alone decides
        if not found:
            break
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        killed |= found
        time.sleep(POLL_S / 5)
    return len(killed)


class CommandProcess:
    """One started command and the processes it spawned."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        marker: str,
        cgroup: CommandCgroup | None,
    ) -> None:
        self.process = process
        self.pgid = process.pid
        self.marker = marker_entry(marker)
        self.cgroup = cgroup
        self.start_ticks = _start_ticks(process.pid)
        self.killed = False
        """Set once the command was stopped (timeout, cancellation, output limit)."""

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        stdout: int,
        stderr: int,
        marker: str,
        cgroup: CommandCgroup | None = None,
    ) -> CommandProcess:
        """Spawn ``argv`` with stdin closed, in a new session (its own process group)."""
        full = cgroup.wrap(list(argv)) if cgroup is not None else list(argv)
        process = await asyncio.create_subprocess_exec(
            *full,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        return cls(process, marker, cgroup)

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def wait(self, timeout: float, stop: asyncio.Event) -> bool:
        """Wait for the command to exit; False when ``timeout`` passed or ``stop`` was set."""
        exited = asyncio.ensure_future(self.process.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({exited, stopped}, timeout=timeout, return_when="FIRST_COMPLETED")
            return exited.done()
        finally:
            stopped.cancel()
            if not exited.done():
                exited.cancel()

    def members(self) -> set[int]:
        """Live processes of the command other than zombies (blocking)."""
        if self.cgroup is not None:
            return self.cgroup.pids()
        return sweep(self.pgid, self.marker, self.start_ticks)

    def _signal(self, sig: int) -> bool:
        """Signal everything; True if anything was still alive."""
        members = self.members()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        return bool(members) or self.process.returncode is None

    async def alive(self) -> bool:
        if self.process.returncode is None:
            return True
        return bool(await asyncio.to_thread(self.members))

    async def terminate(self, grace_s: float, *, leftovers_only: bool = False) -> None:
        """SIGTERM everything, wait up to ``grace_s``, then SIGKILL until nothing is left."""
        if not leftovers_only:
            self.killed = True
        if not await asyncio.to_thread(self._signal, signal.SIGTERM):
            return await self._reap()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while loop.time() < deadline:
            await asyncio.sleep(POLL_S)
            if not await self.alive():
                return await self._reap()
        for _ in range(KILL_ROUNDS):
            if not await asyncio.to_thread(self._signal, signal.SIGKILL):
                break
            await asyncio.sleep(POLL_S / 5)
        await self._reap()

    async def _reap(self) -> None:
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(self.process.wait(), 5.0)
        if self.cgroup is not None:
            self.cgroup.remove()

    async def finish(self, grace_s: float) -> None:
        """After the command exited by itself: end what it left running, release the cgroup."""
        if await self.alive():
            await self.terminate(grace_s, leftovers_only=True)
        else:
            await self._reap()
