"""Start a command in its own process group, and end it together with everything it started.

A command is "everything it started", not one pid: its process group (``setsid`` at spawn),
the processes carrying its marker variable (found in ``/proc`` even after they call setsid),
and its pids cgroup when there is one. Ending it sends SIGTERM to all of them, waits the grace
period, then SIGKILLs until none is left, so a grandchild, a daemonised child or a fork bomb
does not survive its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from .cgroups import CommandCgroup
from .environment import MARKER_VARIABLE

POLL_S = 0.05
KILL_ROUNDS = 400


def _has_marker(pid: int, entry: os.DirEntry[str], uid: int, marker: bytes) -> bool:
    if uid != 0 and entry.stat().st_uid != uid:
        return False  # another user's environment is not readable anyway
    return marker in Path(f"/proc/{pid}/environ").read_bytes()


def _proc_members(pgid: int, marker: bytes) -> set[int]:
    """Live processes in process group ``pgid`` or whose environment holds ``marker``."""
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
                stat = Path(f"/proc/{pid}/stat").read_bytes()
                state, _ppid, pgrp = stat[stat.rindex(b")") + 2 :].split(b" ", 3)[:3]
                if state in (b"Z", b"X"):
                    continue
                if int(pgrp) == pgid or _has_marker(pid, entry, uid, marker):
                    found.add(pid)
            except (OSError, ValueError):
                continue
    return found


class CommandProcess:
    """One started command and the processes it spawned."""

    def __init__(
        self, process: asyncio.subprocess.Process, marker: str, cgroup: CommandCgroup | None
    ) -> None:
        self.process = process
        self.pgid = process.pid
        self.marker = f"{MARKER_VARIABLE}={marker}\0".encode()
        self.cgroup = cgroup
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
        """Every live process of the command (blocking: reads /proc)."""
        found = _proc_members(self.pgid, self.marker)
        if self.cgroup is not None:
            found |= self.cgroup.pids()
        return found

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
        return self.process.returncode is None or bool(await asyncio.to_thread(self.members))

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
        if await asyncio.to_thread(self.members):
            await self.terminate(grace_s, leftovers_only=True)
        else:
            await self._reap()
