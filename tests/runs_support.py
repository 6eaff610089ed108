"""Helpers for run tests: scripted-provider scripts and following runs over the protocol.

A test writes a script (the model's turns) outside the workspace, creates a run with the
``scripted`` provider and that script as its model, and follows it through the daemon's
``devfactory/runChanged`` and ``devfactory/event`` notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest_asyncio

from devfactory.protocol.client import DaemonClient as ProtocolClient
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import Event, EventList, EventsParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run, RunCreateParams
from devfactory.server.team.gateway_client import GatewayClient
from support import SERVER_COMMAND, DaemonClient, initialize_params, make_client

RUN_OPTIONS: dict[str, object] = {
    "defaultProvider": "scripted",
    "index": {"enabled": False, "watch": False},
}
"""initializationOptions for run tests: scripted runs, no indexing competing for the CPU."""


def shared_daemon(options: dict[str, object]) -> Callable[..., Any]:
    """A module-scoped ``daemon`` fixture: one daemon serves all the tests of a module.

    Runs behave the same for every client profile (tests/server/test_e2e_core.py covers both),
    so run modules share one VS Code-like daemon, on the module's ``workspace`` fixture, and
    keep their tests apart by run id. Use with ``pytest.mark.asyncio(loop_scope="module")``
    (and ``pytest.mark.both_databases(scope="module")`` to run the module on both engines).
    """

    @pytest_asyncio.fixture(scope="module", loop_scope="module")
    async def daemon(database: str, workspace: Path) -> AsyncIterator[DaemonClient]:
        client = await start_daemon(workspace, options)
        yield client
        await stop_daemon(client)

    return daemon


def call(name: str, **arguments: object) -> dict[str, object]:
    """A tool call in a scripted turn."""
    return {"name": name, "arguments": arguments}


def turn(
    text: str = "",
    *calls: dict[str, object],
    delay_s: float = 0,
    quote_last: bool = False,
    wait_for_file: Path | None = None,
) -> dict[str, object]:
    """One scripted model turn; with ``wait_for_file``, the model thinks until that file exists."""
    answer: dict[str, object] = {
        "text": text,
        "toolCalls": list(calls),
        "delayS": delay_s,
        "quoteLast": quote_last,
    }
    if wait_for_file is not None:
        answer["waitForFile"] = str(wait_for_file)
    return answer


def finish(summary: str = "done") -> dict[str, object]:
    return turn("", call("finish", summary=summary))


HOLD_TEST = """\
import subprocess, sys, time

def test_hold():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{marker}"])
    time.sleep(600)
"""


def holding_test(marker: str) -> tuple[dict[str, str], str]:
    """A test file that holds for ten minutes (pytest and a child, both with ``marker`` in
    their command lines) and the command that runs it: ``(files, command)``."""
    name = f"test_{marker}.py"
    return {name: HOLD_TEST.format(marker=marker)}, f"pytest -q -p no:cacheprovider {name}"


def write_script(folder: Path, name: str, turns: Iterable[dict[str, object]]) -> Path:
    """Write a script outside the workspace (so runs do not snapshot it); its absolute path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"turns": list(turns)}, indent=1))
    return path


async def create_run(
    client: DaemonClient, script: Path | str, prompt: str = "Fix the bug", **params: Any
) -> Run:
    run: Run = await client.call(
        Requests.RUNS_CREATE,
        RunCreateParams(prompt=prompt, provider="scripted", model=str(script), **params),
    )
    return run


def mark(client: DaemonClient, method: str = Notifications.RUN_CHANGED) -> int:
    """How many ``method`` notifications arrived so far: wait for later ones with ``start``."""
    return len(client.notes.received[method])


async def wait_status(
    client: DaemonClient, run_id: int, *statuses: RunStatus, start: int = 0, timeout: float = 20
) -> Run:
    """The run as it was when it reached one of ``statuses`` (after ``start``)."""
    note = await client.notes.wait_for(
        Notifications.RUN_CHANGED,
        lambda n: n.run.id == run_id and n.run.status in statuses,
        timeout=timeout,
        start=start,
    )
    run: Run = note.run
    return run


async def wait_finished(client: DaemonClient, run_id: int, timeout: float = 20) -> Run:
    return await wait_status(
        client, run_id, RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, timeout=timeout
    )


async def wait_event(
    client: DaemonClient, run_id: int, type: EventType, start: int = 0, timeout: float = 20
) -> Event:
    """The first ``devfactory/event`` of ``type`` for the run (after ``start``)."""
    note = await client.notes.wait_for(
        Notifications.EVENT,
        lambda n: n.event.run_id == run_id and n.event.type is type,
        timeout=timeout,
        start=start,
    )
    event: Event = note.event
    return event


async def replay(
    client: DaemonClient | GatewayClient,
    run_id: int | None = None,
    since: int = 0,
    page: int = 1000,
) -> list[Event]:
    """Every persisted event (of one run, or of the project) after ``since``, page by page."""
    events: list[Event] = []
    while True:
        result: EventList = await client.call(
            Requests.EVENTS, EventsParams(run_id=run_id, since=since, limit=page)
        )
        events += result.events
        since = result.last_id
        if not result.has_more:
            return events


def live_events(client: DaemonClient, run_id: int | None = None, start: int = 0) -> list[Event]:
    """The ``devfactory/event`` notifications received (after ``start``), in arrival order."""
    return [
        n.event
        for n in client.notes.received[Notifications.EVENT][start:]
        if run_id is None or n.event.run_id == run_id
    ]


def kinds(events: Iterable[Event]) -> list[str]:
    """Event types, with the target status for run_status_changed (``status:running``); the
    conversation's messages are left out (tests of the conversation read them)."""
    return [
        f"status:{e.payload['toStatus']}"
        if e.type is EventType.RUN_STATUS_CHANGED
        else e.type.value
        for e in events
        if e.type is not EventType.CONVERSATION_MESSAGE_ADDED
    ]


def statuses(events: Iterable[Event]) -> list[str]:
    return [k.removeprefix("status:") for k in kinds(events) if k.startswith("status:")]


async def start_daemon(
    workspace: Path,
    options: object,
    env: dict[str, str] | None = None,
    profile: str = "visual-studio-code",
) -> DaemonClient:
    """A daemon of the test's own (to kill or restart), initialized on ``workspace``; it stores
    where the ``database`` fixture says (``DEVFACTORY_STORAGE``, inherited unless ``env``
    replaces the environment)."""
    client = make_client()
    await client.start_io(*SERVER_COMMAND, env=env)
    await client.initialize_session(initialize_params(workspace, profile, options))
    return client


async def kill_9(client: DaemonClient) -> int:
    """``kill -9`` the client's daemon, as a crash would; returns its pid."""
    assert client._server is not None
    pid = client._server.pid
    os.kill(pid, signal.SIGKILL)
    # Both wait for the daemon's stdout to close, which never happens while a process it
    # left behind holds it: bounded, so such a test fails on its assertions, not on a hang.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client._server.wait(), 10)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 10)
    return pid


async def stop_daemon(client: DaemonClient) -> None:
    """Shut the daemon down as an editor would, or kill it if that fails (a failing test
    must not hang on a daemon that never got ``exit``)."""
    try:
        await asyncio.wait_for(client.shutdown_session(), 15)
    except Exception:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
    await client.stop()


async def until(predicate: Callable[[], bool], timeout: float = 20) -> None:
    """Wait until ``predicate()`` holds (polling), at most ``timeout`` seconds."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def wait_until_ended(client: ProtocolClient, run_id: int, iteration: int = 1) -> Run:
    """Poll ``devfactory/runs/get`` until the run has ended its ``iteration``."""
    for _ in range(1200):  # a minute: generous on a loaded 2-core machine
        run: Run = await client.call(Requests.RUNS_GET, {"runId": run_id})
        if run.status.is_terminal and run.metadata.iteration == iteration:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end: {run.status}")
