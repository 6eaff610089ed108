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

import contextlib
import logging
import os
import socket
from pathlib import Path

from lsprotocol import types

from .. import services
from ..app import DevFactoryServer
from ..context import Workspace
from ..errors import Unavailable
from .runner import SegmentRunner

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
        runner = SegmentRunner(manager, store.leases, store.run_queue, name=name, lease_s=lease_s)
        log.info("worker %s serving project %d, %d slots", name, workspace.project.id, slots)
        await store.run_queue.serve(
            workspace.project.id, runner.execute, slots=slots, lease_s=lease_s, name=name
        )
    finally:
        await server.wiring.stop()
        await server.cancel_tasks()
        await store.close()
        workspace.daemon.release()


async def _initialize(server: DevFactoryServer, root: Path) -> None:
    """Initialize the daemon as an editor would (pygls' own initialize, then ours), as a team
    worker (``features/runs.py``) with ``team.workers`` on whatever the clone's settings say:
    it takes jobs, never starts or recovers runs of its own accord."""
    uri = root.as_uri()
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(experimental={"devfactory": {"teamWorker": True}}),
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
