"""Runs as procrastinate jobs (team workers): the queue the daemon hands runs to.

When team workers are configured, a run that becomes queued gets its job in the very
transaction that makes it queued (``Database.on_queued``): the run row and its job commit
together, or neither does. One job is one segment of a run (until it finishes, pauses or
asks the user); ``devfactory worker`` executes them. A job's ``queueing_lock`` keeps one
segment of a run waiting at a time, its ``lock`` runs a run's segments one after another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager

from devfactory.protocol.runs import Run

from .database import Connection, Database

log = logging.getLogger(__name__)

RUN_TASK = "devfactory.run_segment"
"""The task of a run's segment; its one argument is ``run_id``."""
SCHEMA_LOCK = 0x0DEF_AC71
"""Advisory lock held while procrastinate's schema is created (daemons and workers at once)."""


def job_app(url: str) -> procrastinate.App:
    """procrastinate's app over the team's database (open it to run a worker; deferring
    inside our own transaction needs no pool)."""
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))


def run_queue(project_id: int) -> str:
    """The queue of one project's runs: a worker serves the project its clone is of."""
    return f"devfactory_runs_{project_id}"


def run_lock(run_id: int) -> str:
    return f"devfactory-run-{run_id}"


class PostgresRunQueue:
    """Hands queued runs to workers as procrastinate jobs."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.app = job_app(db.url)
        self.accepts: Callable[[Run], bool] | None = None
        """Which queued runs are the workers' (None: not enabled)."""
        self._handed_back: set[tuple[int, int]] | None = None
        """While this process is a worker: the runs (project, run) its stopping segments
        handed back, enqueued once the worker has stopped."""

    async def enable(self, accepts: Callable[[Run], bool]) -> None:
        """From now on a queued run that ``accepts`` is enqueued for the workers (creating
        procrastinate's tables first if the database has none)."""
        await self.db.write(_ensure_schema)
        if self.accepts is None:
            self.db.on_queued.append(self._queued)
        self.accepts = accepts

    async def _queued(self, conn: Connection, run: Run) -> None:
        if self.accepts is not None and self.accepts(run):
            await self.enqueue(conn, run.project_id, run.id)

    async def hand_back(self, project_id: int, run_id: int) -> None:
        if self._handed_back is not None:  # a worker's segment, stopping: see serve()
            self._handed_back.add((project_id, run_id))
            return
        await self.db.write(self.enqueue, project_id, run_id)

    async def enqueue(self, conn: Connection, project_id: int, run_id: int) -> None:
        """Enqueue the run's next segment on ``conn`` (inside the caller's transaction); a
        segment already waiting for the run is enough."""
        deferrer = self.app.configure_task(
            RUN_TASK,
            queue=run_queue(project_id),
            lock=run_lock(run_id),
            queueing_lock=run_lock(run_id),
            connection=conn,
        )
        try:
            async with conn.transaction():  # a savepoint: a refusal must not abort ours
                await deferrer.defer_async(run_id=run_id)
        except AlreadyEnqueued:
            log.debug("run %d has a segment waiting already", run_id)

    async def serve(
        self,
        project_id: int,
        execute: Callable[[int], Awaitable[None]],
        *,
        slots: int,
        lease_s: float,
        name: str,
    ) -> None:
        """Execute the project's run segments (``execute(run_id)``), ``slots`` at once, until
        SIGINT or SIGTERM. The worker's heartbeat shows it alive; the jobs of workers whose
        heartbeat stopped ``lease_s`` ago are retried (a dead worker's run goes on here)."""
        queue = run_queue(project_id)

        @self.app.task(name=RUN_TASK, queue=queue)
        async def run_segment(run_id: int) -> None:
            await execute(run_id)

        handed_back: set[tuple[int, int]] = set()
        self._handed_back = handed_back
        async with self.app.open_async():
            retrying = asyncio.create_task(self._retry_stalled(queue, lease_s), name="stalled")
            try:
                await self.app.run_worker_async(
                    queues=[queue],
                    concurrency=slots,
                    name=name,
                    update_heartbeat_interval=lease_s / 3,
                    stalled_worker_timeout=lease_s,
                    fetch_job_polling_interval=min(5.0, lease_s / 2),
                    # procrastinate stops the heartbeat when the worker stops: the grace must
                    # end before the other workers would count this one as stalled.
                    shutdown_graceful_timeout=lease_s / 3,
                )
            finally:
                retrying.cancel()
                self._handed_back = None
                # Only now, with every aborted job's end written: a job another worker retried
                # meanwhile (it took this one for stalled) was just ended by that write, and
                # a segment enqueued from inside the job would have found it still waiting.
                for handed_project, run_id in sorted(handed_back):
                    await self.db.write(self.enqueue, handed_project, run_id)

    async def _retry_stalled(self, queue: str, lease_s: float) -> None:
        """Hand the jobs of workers that stopped sending heartbeats back to the queue."""
        jobs = self.app.job_manager
        while True:
            await asyncio.sleep(lease_s / 2)
            try:
                for job in await jobs.get_stalled_jobs(
                    queue=queue, seconds_since_heartbeat=lease_s
                ):
                    log.warning("job %s of a stalled worker: retrying it", job.id)
                    await jobs.retry_job(job)
            except Exception:
                log.exception("could not retry stalled jobs; trying again")


async def _ensure_schema(conn: Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
    row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs') AS found")).fetchone()
    if row is None or row["found"] is None:
        log.info("creating procrastinate's tables")
        await conn.execute(SchemaManager.get_schema().encode())
