"""Ports of team mode, which only a shared database (PostgreSQL) offers: run leases that
fence stale workers, the queue that hands runs to workers, and proposed changes as stored
patches. A store without them (SQLite) has None in their place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from devfactory.protocol.runs import Run


class LeaseRepository(Protocol):
    """Who drives a run, until when, and the epoch (fencing token) its writes must carry."""

    async def acquire(self, run_id: int, owner: str, seconds: float) -> int | None:
        """Take the lease for ``seconds`` if it is free, expired or ``owner``'s: the new epoch
        (from then on every write of this process for the run checks it), else None."""
        ...

    async def renew(self, run_id: int, epoch: int, seconds: float) -> bool:
        """Extend the lease; False when another worker has taken it since."""
        ...

    async def holds(self, run_id: int, epoch: int) -> bool:
        """Whether ``epoch`` is still the run's lease."""
        ...

    async def release(self, run_id: int, epoch: int) -> None:
        """Give the lease up; the process's writes for the run are no longer fenced."""
        ...

    async def revoke(self, run_id: int) -> None:
        """Fence the holder now (the run was cancelled elsewhere): its next write fails."""
        ...

    async def request_pause(self, run_id: int) -> None:
        """Ask the worker driving the run to pause it (at its next step)."""
        ...

    async def take_pause_request(self, run_id: int) -> bool:
        """Whether a pause was asked for since the last call (consumes the request)."""
        ...

    async def send_directive(self, run_id: int, text: str) -> None:
        """Pass a message from the user to the worker driving the run."""
        ...

    async def take_directives(self, run_id: int) -> list[str]:
        """The messages sent to the run since the last call, oldest first (consumed)."""
        ...


class RunQueue(Protocol):
    """Hands queued runs to workers: a run's job is enqueued in the transaction that makes
    it queued."""

    async def enable(self, accepts: Callable[[Run], bool]) -> None:
        """From now on a run that becomes queued, if ``accepts`` it, is enqueued for the
        workers in the same transaction."""
        ...

    async def hand_back(self, project_id: int, run_id: int) -> None:
        """Queue the run's next segment again: this worker stops before the run did."""
        ...

    async def serve(
        self,
        project_id: int,
        execute: Callable[[int], Awaitable[None]],
        *,
        slots: int,
        lease_s: float,
        name: str,
    ) -> None:
        """Be a worker: ``execute(run_id)`` the project's run segments, ``slots`` at once,
        until stopped; the jobs of workers that stopped ``lease_s`` ago are taken over."""
        ...


class PatchRepository(Protocol):
    """The two versions a proposed change compares and its diff, kept with the change."""

    async def save(
        self, change_id: int, before: bytes | None, after: bytes | None, diff: str
    ) -> None: ...

    async def get(self, change_id: int) -> tuple[bytes | None, bytes | None, str] | None:
        """(before, after, diff), or None when the change has no stored patch."""
        ...

    async def has(self, change_id: int) -> bool:
        """Whether the change has a stored patch (without reading it)."""
        ...
