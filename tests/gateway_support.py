"""A real ``devfactory gateway`` process for tests: a workspace, a database (the workspace's
SQLite file or a new PostgreSQL database), a self-signed certificate made now (trustme),
tokens made with ``devfactory token create``, and clients that connect over wss://."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme

from cli_support import DEVFACTORY, cli_env
from devfactory.protocol.enums import EventType
from devfactory.protocol.events import Event, EventNotification
from devfactory.protocol.methods import Notifications
from devfactory.server.team.callers import ALLOW_REMOTE_SCRIPTED
from devfactory.server.team.gateway_client import GatewayClient
from postgresql_support import postgres_server
from support import make_git_repo, trust_workspace

TEAM_TOML = """\
default_provider = "scripted"
[index]
enabled = false
watch = false
"""


@dataclass
class RunningGateway:
    url: str
    workspace: Path
    ca_file: Path
    env: dict[str, str]
    """The environment of the gateway's commands (DEVFACTORY_STORAGE on PostgreSQL)."""
    storage: str
    """Where its store is, as ``open_store`` takes it."""

    def devfactory(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DEVFACTORY, *args, "--workspace", str(self.workspace)],
            capture_output=True, text=True, env=self.env, timeout=60, check=False,
        )  # fmt: skip

    def token(self, name: str, *abilities: str) -> str:
        """A new token from ``devfactory token create`` (its stdout is the token alone)."""
        flags = [f"--ability={a}" for a in abilities]
        done = self.devfactory("token", "create", "--name", name, *flags)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    async def client(self, token: str) -> GatewayClient:
        return await GatewayClient.connect(self.url, token, ca_file=self.ca_file)


def storage_env(engine: str, folder: Path) -> tuple[dict[str, str], str]:
    """The commands' environment and the store's location for ``engine``."""
    if engine == "postgresql":
        url = postgres_server().new_database()
        return {**cli_env(), "DEVFACTORY_STORAGE": url}, url
    env = {k: v for k, v in cli_env().items() if k != "DEVFACTORY_STORAGE"}
    return env, str(folder / ".devfactory" / "devfactory.db")


def certificate(folder: Path) -> tuple[Path, Path, Path]:
    """(CA, certificate chain, key) files for 127.0.0.1, made now."""
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca.cert_pem.write_to_path(str(paths[0]))
    issued.private_key_and_cert_chain_pem.write_to_path(str(paths[1]))
    issued.private_key_pem.write_to_path(str(paths[2]))
    return paths


def gateway_on_both_databases() -> Any:
    """A module-scoped ``team`` fixture: one gateway per database engine for a module's tests
    (use with ``pytest.mark.asyncio(loop_scope="module")``)."""

    @pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
    async def team(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[RunningGateway]:
        async with gateway(tmp_path_factory.mktemp("gateway"), request.param) as running:
            yield running

    return team


@contextlib.asynccontextmanager
async def gateway(
    folder: Path, engine: str, *, allow_scripted: bool = True
) -> AsyncIterator[RunningGateway]:
    """A gateway on a new workspace under ``folder``, until the block ends."""
    workspace = trust_workspace(
        make_git_repo(folder / "ws", {"app.py": "VALUE = 1\n", "devfactory.toml": TEAM_TOML})
    )
    env, storage = storage_env(engine, workspace)
    async with serve_gateway(
        workspace, folder, env, storage, allow_scripted=allow_scripted
    ) as running:
        yield running


@contextlib.asynccontextmanager
async def serve_gateway(
    workspace: Path,
    folder: Path,
    env: dict[str, str],
    storage: str,
    *,
    allow_scripted: bool = True,
) -> AsyncIterator[RunningGateway]:
    """A ``devfactory gateway`` process on ``workspace`` (its store at ``storage``, its
    certificate under ``folder``), until the block ends.

    ``allow_scripted`` lets its clients run the ``scripted`` provider, which a gateway refuses
    them (it reads a file of the gateway's machine): the tests have no other offline model.
    """
    ca, cert, key = certificate(folder)
    env = {k: v for k, v in env.items() if k != ALLOW_REMOTE_SCRIPTED}
    if allow_scripted:
        env[ALLOW_REMOTE_SCRIPTED] = "1"
    process = await asyncio.create_subprocess_exec(
        DEVFACTORY, "gateway", "--workspace", str(workspace), "--port", "0",
        "--cert", str(cert), "--key", str(key),
        env=env, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stderr is not None
    url = None
    lines = []
    while url is None:
        line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
        if not line:
            raise AssertionError(f"the gateway exited: {''.join(lines)}")
        lines.append(line)
        if found := re.search(r"listening on (wss://\S+)", line):
            url = found.group(1)
    drain = asyncio.create_task(process.stderr.read())  # keep its pipe from filling
    try:
        yield RunningGateway(url, workspace, ca, env, storage)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
            assert process.returncode == 0, "the gateway closes cleanly on SIGTERM"
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain


def collect(client: GatewayClient) -> list[Event]:
    """Every live event the client is sent, from now on."""
    seen: list[Event] = []

    def on(method: str, params: Any) -> None:
        if method == Notifications.EVENT and isinstance(params, EventNotification):
            seen.append(params.event)

    client.on_notification(on)
    return seen


def of_run(events: list[Event], run_id: int) -> list[Event]:
    return [e for e in events if e.run_id == run_id]


def completed(event: Event) -> bool:
    return event.type == EventType.RUN_STATUS_CHANGED and event.payload["toStatus"] == "completed"


async def ended(events: list[Event], run_id: int) -> None:
    """Until the run's last event (its status becoming completed) has arrived."""
    while not any(completed(e) for e in of_run(events, run_id)):
        await asyncio.sleep(0.02)
