"""Runs as procrastinate jobs (team workers): the queue the daemon hands runs to.

When team workers are configured, a run that becomes queued gets its job in the very
transaction that makes it queued (``Database.on_queued``): the run row and its job commit
together, or neither does. One job is one segment of a run (until it finishes, pauses or
asks the user); ``devfactory worker`` executes them. A job's ``queueing_lock`` keeps one
segment of a run waiting at a time, its ``lock`` runs a run's segments one after another.
"""

from __future__ import annotations

import logging

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.schema import SchemaManager

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
        self.enabled = False

    async def enable(self) -> None:
        """From now on a run that becomes queued is enqueued for the workers (creating
        procrastinate's tables first if the database has none)."""
        await self.db.write(_ensure_schema)
        if not self.enabled:
            self.db.on_queued.append(self.enqueue)
            self.enabled = True

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


async def _ensure_schema(conn: Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
    row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs') AS found")).fetchone()
    if row is None or row["found"] is None:
        log.info("creating procrastinate's tables")
        await conn.execute(SchemaManager.get_schema().encode())
