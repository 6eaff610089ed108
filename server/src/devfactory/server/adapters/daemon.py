"""The child daemon an adapter drives: spawned on a workspace, spoken to over ``devfactory/*``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from devfactory.protocol.client import DaemonClient

from ..cli.client import daemon_command


@asynccontextmanager
async def spawn_daemon(workspace: Path, client_name: str) -> AsyncIterator[DaemonClient]:
    """A daemon serving ``workspace`` for the adapter's lifetime.

    ``own_runs_only``: the runs an adapter creates are driven by its own daemon (an editor's
    daemon on the same workspace keeps driving its own), and end with it.
    """
    async with DaemonClient.spawn(
        workspace,
        command=daemon_command(),
        client_name=client_name,
        own_runs_only=True,
    ) as client:
        yield client
