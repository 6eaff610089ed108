"""The real DevFactory daemon plus one bench-only hook: after ``initialized``, ``BENCH_RUNS``
runs each emit ``BENCH_EVENTS`` command_output events as fast as they can.

Each run awaits every ``emit`` (committed, then notified) before the next, as the agent loop
and the command executor do; the runs go concurrently. Each event's text carries its sequence
number in the run and the wall-clock time just before ``emit`` was called, so the client can
check order and measure emit-to-client latency. Started by ``bench/runs_events.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import CommandOutput
from devfactory.protocol.runs import RunMetadata
from devfactory.server.app import DevFactoryServer
from devfactory.server.context import Workspace
from devfactory.server.events.bus import EventBus
from devfactory.server.features import create_server
from devfactory.server.logs import configure_startup_logging
from devfactory.server.wiring import Feature


async def storm(workspace: Workspace, bus: EventBus) -> None:
    runs, per_run = int(os.environ["BENCH_RUNS"]), int(os.environ["BENCH_EVENTS"])
    line = "x" * int(os.environ.get("BENCH_TEXT", "80"))
    ids = []
    for n in range(runs):
        run = await workspace.store.runs.create(
            project_id=workspace.project.id,
            title=f"bench {n}",
            prompt="bench",
            status=RunStatus.DRAFT,
            agent="backend",
            provider="scripted",
            model=None,
            mode="review",
            metadata=RunMetadata(),
        )
        ids.append(run.id)

    async def emit_all(run_id: int) -> None:
        for seq in range(per_run):
            text = f"{seq} {time.time():.6f} {line}"
            await bus.emit(run_id, EventType.COMMAND_OUTPUT, "output", CommandOutput(text=text))

    await asyncio.sleep(0.2)  # let the client settle after initialized
    await asyncio.gather(*(emit_all(run_id) for run_id in ids))


async def start(
    server: DevFactoryServer, workspace: Workspace, events: EventBus
) -> AsyncIterator[None]:
    server.run_task(storm(workspace, events), name="storm")
    yield


def main() -> None:
    configure_startup_logging()  # as `devfactory serve` does
    server = create_server(extra=[Feature("storm", setup=lambda server: None, start=start)])
    server.start_io()


if __name__ == "__main__":
    main()
