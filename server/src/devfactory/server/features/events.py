"""The event stream: ``devfactory/events`` (replay) and ``devfactory/event`` (live)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from devfactory.protocol.events import EventList, EventsParams
from devfactory.protocol.methods import Requests

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace


async def start(server: DevFactoryServer, workspace: Workspace) -> AsyncIterator[services.EventBus]:
    bus = services.EventBus(workspace.store, workspace.project.id, server.send)
    bus.start()
    await bus.start_tailing()
    yield bus
    await bus.stop()


def setup(server: DevFactoryServer) -> None:
    @rpc.request(server, Requests.EVENTS)
    async def events(params: EventsParams) -> EventList:
        workspace = await server.need(Workspace)
        found = await workspace.store.events.list(
            workspace.project.id,
            run_id=params.run_id,
            initiative_id=params.initiative_id,
            since=params.since,
            limit=params.limit + 1,
        )
        page = found[: params.limit]
        return EventList(
            events=page,
            last_id=page[-1].id if page else params.since,
            has_more=len(found) > params.limit,
        )
