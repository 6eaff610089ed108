"""``devfactory worker``: a headless daemon on a clone of the repository that executes the
team's runs as procrastinate jobs, up to N at once.

It opens the workspace like an editor's daemon (same settings, the team's database, the same
runs, review and commands features; no client: notifications go nowhere) and registers the
run-segment task. procrastinate hands each job to one worker; the worker's heartbeat shows it
alive. When a worker dies (kill -9, a lost machine), its heartbeat stops: every worker looks
for stalled jobs and retries them, and the segment that picks one up takes the run's lease
once the dead worker's has expired and goes on from the run's stored conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Any

from lsprotocol import types

from .. import services
from ..app import DevFactoryServer
from ..context import Workspace
from ..errors import Unavailable
from .segments import SegmentRunner

log = logging.getLogger(__name__)

FEATURES = ("events", "snapshots", "commands", "review", "runs")
"""What a worker runs: no index (it is a cache of each machine's files; runs on a worker have
no code search) and no factory (initiatives are scheduled by the daemons)."""


class _Discard:
    """Where a client-less daemon's notifications go."""

    def write(self, data: bytes) -> None:
        del data

    def close(self) -> None:
        return None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_worker(root: Path, *, slots: int, lease_s: float) -> None:
    """Serve the team's run queue from the workspace at ``root`` until stopped (SIGINT or
    SIGTERM: running segments are given ``lease_s`` to finish, then handed back)."""
    from devfactory.storage.postgresql.jobs import RUN_TASK, job_app, run_queue

    from ..features import create_server

    server = create_server(FEATURES)
    server.protocol.set_writer(_Discard())
    await _initialize(server, root)
    workspace = await server.need(Workspace)
    store = workspace.store
    try:
        if store.leases is None or store.run_queue is None:
            raise Unavailable(
                "a worker needs the team's PostgreSQL storage: set storage = "
                '"postgresql://..." in devfactory.toml or DEVFACTORY_STORAGE'
            )
        manager = await server.need(services.RunManager)
        name = worker_name()
        runner = SegmentRunner(manager, store.leases, name=name, lease_s=lease_s)
        app = job_app(store.location)
        queue = run_queue(workspace.project.id)

        @app.task(name=RUN_TASK, queue=queue)
        async def run_segment(run_id: int) -> None:
            await runner.execute(run_id)

        async with app.open_async():
            server.run_task(_retry_stalled(app, queue, lease_s), name="stalled-jobs")
            log.info(
                "worker %s serving project %d with %d slots", name, workspace.project.id, slots
            )
            await app.run_worker_async(
                queues=[queue],
                concurrency=slots,
                name=name,
                update_heartbeat_interval=lease_s / 3,
                stalled_worker_timeout=lease_s,
                fetch_job_polling_interval=min(5.0, lease_s / 2),
                shutdown_graceful_timeout=lease_s,
            )
    finally:
        await server.wiring.stop()
        await server.cancel_tasks()
        await store.close()
        workspace.daemon.release()


async def _initialize(server: DevFactoryServer, root: Path) -> None:
    """Initialize the daemon as an editor would (pygls' own initialize, then ours), with
    ``team.workers`` on whatever the clone's settings say: a worker takes jobs, never runs
    queued runs of its own accord."""
    uri = root.as_uri()
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri=uri,
        workspace_folders=[types.WorkspaceFolder(uri=uri, name=root.name)],
        initialization_options={"team": {"workers": True}},
    )
    steps = server.protocol.lsp_initialize(params)
    handler, args, _ = next(steps)
    await handler(*args)
    with contextlib.suppress(StopIteration):
        steps.send(None)
    server.wiring.begin()


async def _retry_stalled(app: Any, queue: str, lease_s: float) -> None:
    """Hand the jobs of workers that stopped sending heartbeats back to the queue."""
    while True:
        await asyncio.sleep(lease_s / 2)
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                queue=queue, seconds_since_heartbeat=lease_s
            )
            for job in stalled:
                log.warning("job %s of a stalled worker: retrying it", job.id)
                await app.job_manager.retry_job(job)
        except Exception:
            log.exception("could not retry stalled jobs; trying again")
