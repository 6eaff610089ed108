"""The event stream: ``devfactory/events`` (replay) and ``devfactory/event`` (live)."""

from __future__ import annotations

from devfactory.protocol.events import EventList, EventsParams
from devfactory.protocol.methods import Requests

from .. import rpc
from ..app import DevFactoryServer
from ..errors import InvalidParams
from ..events.bus import EventBus
from ..services import Services

MAX_REPLAY = 10_000


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
        if not 1 <= params.limit <= MAX_REPLAY:
            raise InvalidParams(f"limit must be between 1 and {MAX_REPLAY}, got {params.limit}")
        if params.since < 0:
            raise InvalidParams(f"since must be 0 or a previous event id, got {params.since}")
        services = server.services
        found = await services.store.events.list(
            services.project.id,
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
