"""Team mode in the local daemon: with ``[team] gateway`` set, the bridge to the gateway.

It has no handlers of its own: :func:`..rpc.request` forwards the methods of
:data:`..team.scope.BRIDGED` through the ``GatewayBridge`` this feature provides (disabled when
no gateway is configured: those methods are then answered locally).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from .. import services
from ..app import DevFactoryServer
from ..context import Workspace


async def start(
    server: DevFactoryServer, workspace: Workspace
) -> AsyncIterator[services.GatewayBridge]:
    bridge = services.GatewayBridge(workspace.settings.team, relay=server.protocol.notify)
    if bridge.enabled:
        server.run_task(_connect_early(bridge), name="team-gateway")
    yield bridge
    await bridge.close()


async def _connect_early(bridge: services.GatewayBridge) -> None:
    """Connect at start, so the editor gets the team's live events before it asks anything."""
    from ..errors import Unavailable

    try:
        await bridge.client()
    except Unavailable as exc:
        import logging

        logging.getLogger(__name__).warning("%s", exc.message)


def setup(server: DevFactoryServer) -> None:
    """Nothing to register: bridged methods keep their features' handlers (see rpc)."""
