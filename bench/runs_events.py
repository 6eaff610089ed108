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
import os
import sys
import tempfile
import time
from pathlib import Path

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.events import Event, EventList, EventsParams
from devfactory.protocol.methods import Notifications, Requests

from .common import git, median, percentile, row

DAEMON = Path(__file__).with_name("_event_daemon.py")
RUNS = 8
EVENTS_PER_RUN = 2_500
REPEATS = 3
SETTINGS = {"index": {"enabled": False, "watch": False}}


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
        persisted: list[Event] = []
        since = 0
        while True:
            page: EventList = await c.call(Requests.EVENTS, EventsParams(since=since, limit=10_000))
            persisted += page.events
            since = page.last_id
            if not page.has_more:
                break

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


if __name__ == "__main__":
    main()
