"""``SegmentRunner``: one segment of a run on a team worker, under the run's lease.

A segment takes the run's lease (its epoch moves on: the fencing token), claims the run
(queued -> running) or takes it over (a worker that was killed left it running), drives it
through the ``RunManager`` until it stops, and gives the lease up. While it works, the lease is
renewed and the user's pause requests are read (the user's directives at each step); if the
renewal finds another epoch (this worker stalled past its lease and another took the run over),
or the run was cancelled meanwhile, the run's task is stopped at once. Every event and status
write of the run, every worktree write and every command checks the epoch in the database too,
so nothing a stale worker does lands after the takeover.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from devfactory.protocol.enums import RunStatus
from devfactory.storage import LeaseLost
from devfactory.storage.ports import LeaseRepository, RunQueue

from ..runs.segment import Segment

if TYPE_CHECKING:
    from ..runs.manager import RunManager
    from ..runs.worker import RunWorker

log = logging.getLogger(__name__)
S = RunStatus


class SegmentRunner:
    def __init__(
        self,
        manager: RunManager,
        leases: LeaseRepository,
        queue: RunQueue,
        *,
        name: str,
        lease_s: float,
    ) -> None:
        self.manager = manager
        self.leases = leases
        self.queue = queue
        """Where a segment this worker cannot finish (it is stopping) is handed back."""
        self.name = name
        """This worker's identity in leases and the runs' ``owner`` (host and pid)."""
        self.lease_s = lease_s
        """How long a lease lasts without renewal: after a worker dies, another takes its
        runs over this long after its last renewal."""

    async def execute(self, run_id: int) -> None:
        """Drive the run's next segment, if it still has one to do. If this worker stops
        first (SIGTERM), the segment is handed back to the queue: another worker goes on."""
        try:
            await self._segment(run_id)
        except asyncio.CancelledError:
            await self.queue.hand_back(self.manager.context.project_id, run_id)
            log.info("run %d: handed back to the queue", run_id)
            raise

    async def _segment(self, run_id: int) -> None:
        epoch = await self._acquire(run_id)
        if epoch is None:
            return
        worker: RunWorker | None = None
        renewing: asyncio.Task[None] | None = None
        try:
            run = await self.manager.store.runs.get(run_id)
            if run is None or run.status not in (S.QUEUED, S.RUNNING):
                return
            resumed = run.status is S.RUNNING
            if resumed:
                log.info("run %d: taking it over (epoch %d)", run_id, epoch)
                run = await self.manager.update(run_id, owner=self.name)
            else:
                run = await self.manager.transition(run_id, S.RUNNING, owner=self.name)

            async def guard() -> None:
                if not await self.leases.holds(run_id, epoch):
                    raise LeaseLost(run_id, epoch)

            segment = Segment(guard=guard, directives=lambda: self.leases.take_directives(run_id))
            worker = self.manager.drive(run, segment)
            renewing = asyncio.create_task(self._renew(run_id, epoch, worker), name="lease")
            assert worker.task is not None
            await asyncio.wait({worker.task})  # however it ends (a stop cancels it)
        finally:
            if renewing is not None:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
            if worker is not None:
                await worker.stop()  # the job was cancelled: the run's task goes with it
            await self.leases.release(run_id, epoch)

    async def _acquire(self, run_id: int) -> int | None:
        """The run's lease, waiting while another worker's runs (it may be dead: its lease
        then expires); None when the run has nothing left to do."""
        while True:
            run = await self.manager.store.runs.get(run_id)
            if run is None or run.status not in (S.QUEUED, S.RUNNING):
                log.info("run %d: nothing to do (%s)", run_id, run and run.status.value)
                return None
            epoch = await self.leases.acquire(run_id, self.name, self.lease_s)
            if epoch is not None:
                return epoch
            await asyncio.sleep(self.lease_s / 4)

    async def _renew(self, run_id: int, epoch: int, worker: RunWorker) -> None:
        """Keep the lease while the run works; stop the run once it is lost or cancelled."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            held = await self.leases.renew(run_id, epoch, self.lease_s)
            if held and await self.leases.take_pause_request(run_id):
                worker.request_pause()
            run = await self.manager.store.runs.get(run_id)
            if not held or run is None or run.status.is_terminal:
                why = "its lease was taken over" if not held else "it ended elsewhere"
                log.warning("run %d: stopping this worker's segment: %s", run_id, why)
                await worker.stop()
                return
