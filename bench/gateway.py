"""The team gateway against the local daemon, in one session, both on PostgreSQL.

Events delivered: the storm of ``bench/runs_events.py`` (8 runs x 2,500 ``command_output``
events, each ``emit`` awaited) emitted inside (a) the stdio daemon, delivered to its stdio
client, and (b) the gateway (``bench/_gateway_storm.py``: the same hook), delivered over
wss:// to a ``GatewayClient`` holding a token; each checked against a replay (no event lost,
duplicated or reordered). Run start: ``devfactory/runs/create`` sent to the moment the client
receives the run's ``run_status_changed`` to running, for scripted runs that finish at once,
one after another, through (a) ``devfactory serve`` over stdio and (b) ``devfactory gateway``.

PostgreSQL: ``DEVFACTORY_BENCH_POSTGRESQL`` (a URL whose user may create databases), else a
private cluster from the machine's PostgreSQL binaries (as the tests start one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.events import Event
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import RunCreateParams
from devfactory.server.cli.client import daemon_command
from devfactory.server.project.registration import project_id
from devfactory.server.team.authority import Authority
from devfactory.server.team.gateway_client import GatewayClient
from devfactory.storage import open_store

from . import runs_events
from .common import git, median, percentile, row

ROOT = Path(__file__).parents[1]
STORM = Path(__file__).with_name("_gateway_storm.py")
REPEATS = 3
STARTS = 12
TOML = 'default_provider = "scripted"\n[index]\nenabled = false\nwatch = false\n'


sys.path.insert(0, str(ROOT / "tests"))  # the tests' PostgreSQL and certificate helpers


def new_database() -> str:
    from postgresql_support import postgres_server

    if base := os.environ.get("DEVFACTORY_BENCH_POSTGRESQL"):
        os.environ.setdefault("DEVFACTORY_TEST_POSTGRESQL", base)
    url: str = postgres_server().new_database()
    return url


def workspace(folder: Path) -> Path:
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    (folder / "README.md").write_text("bench\n")
    (folder / "devfactory.toml").write_text(TOML)
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "init")
    return folder


async def token(url: str, folder: Path) -> str:
    """An admin token of ``folder``'s project (no ``[team] project``: known by its path)."""
    store = await open_store(url)
    try:
        project = await project_id(store, folder.resolve(), None, register=True)
        assert project is not None
        secret, _ = await Authority(store, project).create(f"bench-{time.time_ns()}", ["admin"])
    finally:
        await store.close()
    return secret


@contextlib.asynccontextmanager
async def process(command: list[str], env: dict[str, str], pattern: str) -> AsyncIterator[str]:
    """A process that prints the URL it listens on (stdout or stderr); that URL."""
    child = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert child.stdout is not None
    while pattern not in (line := (await asyncio.wait_for(child.stdout.readline(), 60)).decode()):
        if not line:
            raise RuntimeError(f"{command[1]} exited")
    drain = asyncio.create_task(child.stdout.read())
    try:
        yield line[line.index(pattern) :].split()[0]
    finally:
        child.terminate()
        await child.wait()
        drain.cancel()


def storm_stats(received: list[tuple[float, Event]], persisted: list[Event]) -> dict[str, float]:
    events = [event for _, event in received]
    assert events == persisted, "the client got exactly the persisted events, in id order"
    emitted = [float(event.payload["text"].split()[1]) for event in events]
    latencies = [got - sent for (got, _), sent in zip(received, emitted, strict=True)]
    return {
        "rate": len(events) / (received[-1][0] - min(emitted)),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


async def storm_gateway(folder: Path, url: str, tls: tuple[Path, Path, Path]) -> dict[str, float]:
    total = runs_events.RUNS * runs_events.EVENTS_PER_RUN
    env = {**os.environ, "DEVFACTORY_STORAGE": url, "PYTHONPATH": str(ROOT),
           "BENCH_RUNS": str(runs_events.RUNS), "BENCH_EVENTS": str(runs_events.EVENTS_PER_RUN)}  # fmt: skip
    command = [sys.executable, str(STORM), str(folder), str(tls[1]), str(tls[2])]
    received: list[tuple[float, Event]] = []
    done = asyncio.Event()

    def on(method: str, params: Any) -> None:
        if method == Notifications.EVENT:
            received.append((time.time(), params.event))
            if len(received) == total:
                done.set()

    async with (
        process(command, env, "wss://") as address,
        await GatewayClient.connect(address, await token(url, folder), ca_file=tls[0]) as c,
    ):
        c.on_notification(on)
        await asyncio.wait_for(done.wait(), 300)
        persisted = await runs_events.replay_all(c)
    return storm_stats(received, persisted)


async def storm_stdio(folder: Path, url: str) -> dict[str, float]:
    os.environ["DEVFACTORY_STORAGE"] = url  # the bench daemon inherits it
    try:
        return await runs_events.one_storm(folder)
    finally:
        del os.environ["DEVFACTORY_STORAGE"]


async def run_starts(client: Any, script: Path) -> list[float]:
    """``STARTS`` runs one after another: create sent -> running received."""
    running: dict[int, float] = {}
    ended: dict[int, asyncio.Event] = {}

    def on(method: str, params: Any) -> None:
        if method != Notifications.EVENT or params.event.run_id is None:
            return
        event = params.event
        status = event.payload.get("toStatus") if isinstance(event.payload, dict) else None
        if status == "running":
            running.setdefault(event.run_id, time.perf_counter())
        elif status in ("completed", "failed", "cancelled"):
            ended.setdefault(event.run_id, asyncio.Event()).set()

    client.on_notification(on)
    latencies = []
    for n in range(STARTS):
        sent = time.perf_counter()
        run = await client.call(
            Requests.RUNS_CREATE,
            RunCreateParams(prompt=f"start {n}", provider="scripted", model=str(script)),
        )
        await asyncio.wait_for(ended.setdefault(run.id, asyncio.Event()).wait(), 60)
        latencies.append(running[run.id] - sent)
    return latencies


async def starts_stdio(folder: Path, url: str, script: Path) -> list[float]:
    env = {**os.environ, "DEVFACTORY_STORAGE": url}
    async with DaemonClient.spawn(folder, env=env, command=daemon_command()) as client:
        return await run_starts(client, script)


async def starts_gateway(
    folder: Path, url: str, tls: tuple[Path, Path, Path], script: Path
) -> list[float]:
    env = {**os.environ, "DEVFACTORY_STORAGE": url}
    command = [sys.executable, "-P", "-m", "devfactory.server", "gateway", "--workspace",
               str(folder), "--port", "0", "--cert", str(tls[1]), "--key", str(tls[2])]  # fmt: skip
    async with (
        process(command, env, "wss://") as address,
        await GatewayClient.connect(address, await token(url, folder), ca_file=tls[0]) as c,
    ):
        return await run_starts(c, script)


def show(name: str, results: list[dict[str, float]]) -> dict[str, float]:
    for r in results:
        print(
            row(name, f"{r['rate']:,.0f}", f"{r['p50'] * 1000:.1f} ms", f"{r['p99'] * 1000:.1f} ms")
        )
    medians = {k: median([r[k] for r in results]) for k in ("rate", "p50", "p99")}
    print(row(f"{name} median", f"{medians['rate']:,.0f}", f"{medians['p50'] * 1000:.1f} ms",
              f"{medians['p99'] * 1000:.1f} ms"))  # fmt: skip
    return medians


async def session(tmp: Path) -> None:
    from gateway_support import certificate

    tls = certificate(tmp)
    print(f"load average at start: {os.getloadavg()}")
    stdio, gateway = [], []
    for n in range(REPEATS):  # alternated, so both see the same machine
        stdio.append(await storm_stdio(workspace(tmp / f"s{n}"), new_database()))
        gateway.append(await storm_gateway(workspace(tmp / f"g{n}"), new_database(), tls))
    print(
        f"events: {runs_events.RUNS} runs x {runs_events.EVENTS_PER_RUN} events, {REPEATS} repeats"
    )
    print(row("path", "events/s", "p50 latency", "p99 latency"))
    a, b = show("stdio daemon", stdio), show("gateway (wss)", gateway)
    print(f"gateway / stdio: events/s {b['rate'] / a['rate']:.2f}, p50 {b['p50'] / a['p50']:.2f}")

    script = tmp / "finish.json"
    script.write_text(json.dumps({"turns": [{"text": "1. Finish"}, {"toolCalls": [
        {"name": "finish", "arguments": {"summary": "done"}}]}]}))  # fmt: skip
    starts: dict[str, list[float]] = {"stdio": [], "gateway": []}
    for n in range(2):
        starts["stdio"] += await starts_stdio(workspace(tmp / f"rs{n}"), new_database(), script)
        starts["gateway"] += await starts_gateway(
            workspace(tmp / f"rg{n}"), new_database(), tls, script
        )
    print(f"run start (create -> running), {STARTS} runs x 2 sessions each")
    for name, values in starts.items():
        print(
            row(
                name,
                f"median {median(values) * 1000:.1f} ms",
                f"p90 {percentile(values, 90) * 1000:.1f} ms",
            )
        )
    ratio = median(starts["gateway"]) / median(starts["stdio"])
    print(f"gateway / stdio run start: {ratio:.2f}")
    print(f"load average at end: {os.getloadavg()}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        asyncio.run(session(Path(tmp)))


if __name__ == "__main__":
    main()
