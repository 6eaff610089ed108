"""Events: persisted and delivered to a client over stdio, through a real daemon process.

Method: the bench starts the real daemon (every feature) with one bench-only hook
(``bench/_event_daemon.py``): 8 runs each emit events back to back, each ``emit`` awaited
(committed to SQLite, then notified), the runs concurrently. The client is the protocol's
stdio client (``devfactory.protocol.client``, what the CLI uses), decoding every
``devfactory/event`` into its typed Struct. Throughput counts from the first emit to the last
event decoded by the client; latency is from just before ``emit`` to the client's decode.
Afterwards the client replays ``devfactory/events`` and checks that what it received is exactly
what was persisted: no event lost, duplicated or out of order (per run and overall).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import CommandOutput, Event, EventList, EventsParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import RunCreateParams, RunMetadata
from devfactory.server.events.bus import EventBus
from devfactory.storage import open_store

from .common import git, median, percentile, row

DAEMON = Path(__file__).with_name("_event_daemon.py")
RUNS = 8
EVENTS_PER_RUN = 2_500
REPEATS = 3
STEPS = 100
SETTINGS = {"index": {"enabled": False, "watch": False}}


async def replay_all(client: Any) -> list[Event]:
    """Every event of the project, through ``devfactory/events`` pages."""
    persisted: list[Event] = []
    since = 0
    while True:
        page: EventList = await client.call(
            Requests.EVENTS, EventsParams(since=since, limit=10_000)
        )
        persisted += page.events
        since = page.last_id
        if not page.has_more:
            return persisted


async def one_storm(workspace: Path) -> dict[str, float]:
    total = RUNS * EVENTS_PER_RUN
    received: list[tuple[float, Event]] = []
    done = asyncio.Event()

    def on_notification(method: str, params: object) -> None:
        if method == Notifications.EVENT:
            received.append((time.time(), params.event))  # type: ignore[attr-defined]
            if len(received) == total:
                done.set()

    env = {
        **os.environ,
        "BENCH_RUNS": str(RUNS),
        "BENCH_EVENTS": str(EVENTS_PER_RUN),
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }
    command = [sys.executable, str(DAEMON)]
    async with DaemonClient.spawn(workspace, command=command, settings=SETTINGS, env=env) as c:
        c.on_notification(on_notification)
        await asyncio.wait_for(done.wait(), 300)
        persisted = await replay_all(c)

    events = [event for _, event in received]
    assert events == persisted, "the client got exactly the persisted events, in id order"
    next_seq: dict[int, int] = {}
    for event in events:
        seq = int(event.payload["text"].split()[0])
        assert seq == next_seq.get(event.run_id or 0, 0), "per-run order"
        next_seq[event.run_id or 0] = seq + 1
    assert sorted(next_seq.values()) == [EVENTS_PER_RUN] * RUNS
    emitted = [float(event.payload["text"].split()[1]) for event in events]
    latencies = [got - sent for (got, _), sent in zip(received, emitted, strict=True)]
    elapsed = received[-1][0] - min(emitted)
    return {
        "rate": total / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
    }


async def bus_in_process(folder: Path) -> dict[str, float]:
    """The same storm on an EventBus in this process with no client: persistence alone."""
    store = await open_store(folder / "bus.db")
    project = await store.projects.register(
        root_path=str(folder), name="bench", slug="bench", default_branch=None, current_branch=None
    )
    bus = EventBus(store, project.id, lambda method, params: None)
    bus.start()
    latencies: list[float] = []

    async def emit_all(run_id: int) -> None:
        for _ in range(EVENTS_PER_RUN):
            started = time.perf_counter()
            await bus.emit(run_id, EventType.COMMAND_OUTPUT, "output", CommandOutput(text="x" * 80))
            latencies.append(time.perf_counter() - started)

    runs = [
        await store.runs.create(
            project_id=project.id,
            title="bench",
            prompt="bench",
            status=RunStatus.DRAFT,
            agent="backend",
            provider="scripted",
            model=None,
            mode="review",
            metadata=RunMetadata(),
        )
        for _ in range(RUNS)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(emit_all(run.id) for run in runs))
    elapsed = time.perf_counter() - started
    await bus.stop()
    await store.close()
    return {
        "rate": RUNS * EVENTS_PER_RUN / elapsed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
    }


async def scripted_runs(workspace: Path, scripts: Path) -> dict[str, float]:
    """8 real scripted runs at once, each reading a file STEPS times: the whole agent loop."""
    script = scripts / "steps.json"
    read = {"toolCalls": [{"name": "read_file", "arguments": {"path": "README.md"}}]}
    finish = {"toolCalls": [{"name": "finish", "arguments": {"summary": "done"}}]}
    script.write_text(json.dumps({"turns": [{"text": "1. Read"}, *[read] * STEPS, finish]}))
    settings = {**SETTINGS, "defaultProvider": "scripted", "maxConcurrentRuns": RUNS}
    received: list[Event] = []
    finished: set[int] = set()
    done = asyncio.Event()

    def on_notification(method: str, params: object) -> None:
        if method == Notifications.EVENT:
            received.append(params.event)  # type: ignore[attr-defined]
        elif method == Notifications.RUN_CHANGED and params.run.status.is_terminal:  # type: ignore[attr-defined]
            finished.add(params.run.id)  # type: ignore[attr-defined]
            if len(finished) == RUNS:
                done.set()

    async with DaemonClient.spawn(workspace, settings=settings) as client:
        client.on_notification(on_notification)
        started = time.perf_counter()
        for n in range(RUNS):
            await client.call(
                Requests.RUNS_CREATE,
                RunCreateParams(
                    prompt=f"read {n}", provider="scripted", model=str(script), max_steps=STEPS + 1
                ),
            )
        await asyncio.wait_for(done.wait(), 300)
        elapsed = time.perf_counter() - started
        persisted = (await client.call(Requests.EVENTS, EventsParams(limit=10_000))).events
    run_events = [e for e in received if e.run_id is not None]
    assert [e for e in persisted if e.run_id is not None][: len(run_events)] == run_events
    errors = [e.message for e in run_events if e.type is EventType.ERROR]
    assert not errors, errors[:3]
    return {"rate": len(run_events) / elapsed, "events": len(run_events), "seconds": elapsed}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        results = []
        for n in range(REPEATS):
            workspace = Path(tmp) / f"ws{n}"
            workspace.mkdir()
            git(workspace, "init", "-q", "-b", "main")
            (workspace / "README.md").write_text("bench\n")
            git(workspace, "add", "-A")
            git(workspace, "commit", "-qm", "init")
            results.append(asyncio.run(one_storm(workspace)))
    total = RUNS * EVENTS_PER_RUN
    print(f"{RUNS} runs x {EVENTS_PER_RUN} events = {total} per repeat, {REPEATS} repeats")
    print(row("events/s", "p50 latency", "p99 latency", "max latency"))
    for r in results:
        print(row(f"{r['rate']:,.0f}", *(f"{r[k] * 1000:.1f} ms" for k in ("p50", "p99", "max"))))
    print(
        "median:",
        row(
            f"{median([r['rate'] for r in results]):,.0f}",
            *(f"{median([r[k] for r in results]) * 1000:.1f} ms" for k in ("p50", "p99", "max")),
        ),
    )
    with tempfile.TemporaryDirectory(prefix="bench-bus-") as tmp:
        bus = [asyncio.run(bus_in_process(Path(tmp) / f"{n}")) for n in range(REPEATS)]
    print("the same storm on the EventBus in process, no client (persistence alone):")
    for r in bus:
        print(row(f"{r['rate']:,.0f}", *(f"{r[k] * 1000:.1f} ms" for k in ("p50", "p99", "max"))))
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as tmp:
        loops = []
        for n in range(REPEATS):
            workspace = Path(tmp) / f"ws{n}"
            workspace.mkdir()
            git(workspace, "init", "-q", "-b", "main")
            (workspace / "README.md").write_text("bench\n")
            git(workspace, "add", "-A")
            git(workspace, "commit", "-qm", "init")
            loops.append(asyncio.run(scripted_runs(workspace, Path(tmp))))
    print(f"{RUNS} scripted runs x {STEPS} read_file steps, the whole agent loop:")
    for r in loops:
        print(f"  {r['events']:.0f} events in {r['seconds']:.1f} s: {r['rate']:,.0f} events/s")


if __name__ == "__main__":
    main()
