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

from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import CommandOutput
from devfactory.protocol.runs import RunMetadata
from devfactory.server.app import create_server
from devfactory.server.logs import configure_startup_logging
from devfactory.server.services import Services


async def storm(services: Services) -> None:
    runs, per_run = int(os.environ["BENCH_RUNS"]), int(os.environ["BENCH_EVENTS"])
    line = "x" * int(os.environ.get("BENCH_TEXT", "80"))
    ids = []
    for n in range(runs):
        run = await services.store.runs.create(
            project_id=services.project.id,
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
    bus = services.events
    assert bus is not None

    async def emit_all(run_id: int) -> None:
        for seq in range(per_run):
            text = f"{seq} {time.time():.6f} {line}"
            await bus.emit(run_id, EventType.COMMAND_OUTPUT, "output", CommandOutput(text=text))

    await asyncio.sleep(0.2)  # let the client settle after initialized
    await asyncio.gather(*(emit_all(run_id) for run_id in ids))


def main() -> None:
    configure_startup_logging()  # as `devfactory serve` does
    server = create_server()
    server.on_initialized.append(storm)
    server.start_io()


if __name__ == "__main__":
    main()
