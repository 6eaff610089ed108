"""The event stream: ``devfactory/events`` (replay) and ``devfactory/event`` (live)."""

from __future__ import annotations

from devfactory.protocol.events import EventList, EventsParams
from devfactory.protocol.methods import Requests

from .. import rpc
from ..app import DevFactoryServer
from ..events.bus import EventBus
from ..services import Services


def setup(server: DevFactoryServer) -> None:
    async def start_bus(services: Services) -> None:
        services.events = EventBus(services.store, services.project.id, server.send)
        services.events.start()
        await services.events.start_tailing()

    async def stop_bus(services: Services) -> None:
        if services.events is not None:
            await services.events.stop()

    server.on_initialize.append(start_bus)
    server.on_shutdown.append(stop_bus)

    @rpc.request(server, Requests.EVENTS)
    async def events(params: EventsParams) -> EventList:
        services = server.services
        found = await services.store.events.list(
            services.project.id, run_id=params.run_id, since=params.since, limit=params.limit + 1
        )
        page = found[: params.limit]
        return EventList(
            events=page,
            last_id=page[-1].id if page else params.since,
            has_more=len(found) > params.limit,
        )
