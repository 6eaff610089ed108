"""``devfactory gateway`` plus the event storm of ``bench/_event_daemon.py``, which starts once
a client is attached. Started by ``bench/gateway.py`` with the gateway's command line
arguments: ``WORKSPACE CERT KEY``; prints the URL it listens on."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bench._event_daemon import storm
from devfactory.server.app import DevFactoryServer
from devfactory.server.context import Workspace
from devfactory.server.events.bus import EventBus
from devfactory.server.logs import configure_startup_logging
from devfactory.server.team.gateway import Gateway
from devfactory.server.team.gateway_serve import GatewayServer, tls_context
from devfactory.server.wiring import Feature


async def attached_then_storm(
    server: DevFactoryServer, workspace: Workspace, bus: EventBus
) -> None:
    while not getattr(server.protocol.writer, "clients", None):  # noqa: ASYNC110 - no event to wait on
        await asyncio.sleep(0.01)
    await storm(workspace, bus)


async def start(
    server: DevFactoryServer, workspace: Workspace, events: EventBus
) -> AsyncIterator[None]:
    server.run_task(attached_then_storm(server, workspace, events), name="storm")
    yield


async def serve(workspace: Path, cert: Path, key: Path) -> None:
    extra = [Feature("storm", setup=lambda server: None, start=start)]
    gateway = await Gateway.open(workspace, extra=extra)
    port = await GatewayServer(gateway).start("127.0.0.1", 0, tls_context(cert, key))
    print(f"wss://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    configure_startup_logging()
    asyncio.run(serve(*(Path(a) for a in sys.argv[1:4])))
