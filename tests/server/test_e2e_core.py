"""The real daemon over stdio: lifecycle, health, project info and error handling."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound

from devfactory.protocol.client import DaemonClient as ProtocolClient
from devfactory.protocol.errors import RpcError
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health, Project
from support import (
    SERVER_COMMAND,
    DaemonClient,
    git,
    initialize_params,
    make_client,
    make_git_repo,
)


async def test_health_reports_versions_database_and_project(daemon: DaemonClient, workspace: Path):
    health: Health = await daemon.call(Requests.HEALTH)
    assert health.database_ok
    assert health.sqlite_vec_version and health.sqlite_vec_version.startswith("v")
    assert health.database_path == str(workspace / ".devfactory" / "devfactory.db")
    assert health.project_id is not None
    assert health.counts["runs"] == 0
    assert Path(health.log_path).is_file()


@pytest.fixture
async def listening() -> AsyncIterator[int]:
    """A port on 127.0.0.1 that accepts connections (a local model server's stand-in)."""
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("settings", "ready", "problem"),
    [
        (
            {"providers": {"openai": {"apiKeyEnv": ["DEVFACTORY_TEST_UNSET_KEY"]}}},
            False,
            "openai: no API key: set DEVFACTORY_TEST_UNSET_KEY in the daemon's environment",
        ),
        ({"providers": {"openai": {"baseUrl": "http://127.0.0.1:{listening}/v1"}}}, True, None),
        (
            {"providers": {"openai": {"baseUrl": "http://localhost:{closed}/v1"}}},
            False,
            "openai: nothing answers at http://localhost:{closed}/v1",
        ),
        ({"defaultProvider": "scripted"}, False, "scripted: no script"),
        ({"defaultProvider": "nope"}, False, "unknown provider 'nope'"),
    ],
    ids=["key-unset", "local-server-up", "local-server-down", "no-script", "unknown"],
)
async def test_health_says_whether_the_default_provider_can_run(
    tmp_path: Path, listening: int, settings: dict[str, object], ready: bool, problem: str | None
):
    closed = closed_port()
    options = msgspec.json.decode(
        msgspec.json.encode(settings)
        .decode()
        .replace("{listening}", str(listening))
        .replace("{closed}", str(closed))
    )
    root = make_git_repo(tmp_path / "ws")
    client = make_client()
    await client.start_io(*SERVER_COMMAND)
    try:
        await client.initialize_session(initialize_params(root, options=options))
        health: Health = await client.call(Requests.HEALTH)
        await client.shutdown_session()
    finally:
        await client.stop()
    check = health.provider
    assert check is not None and check.ready is ready, check
    expected = None if problem is None else problem.replace("{closed}", str(closed))
    assert (check.problem or "").startswith(expected or "") and (check.problem is None) is ready


async def test_project_info_registers_the_workspace(daemon: DaemonClient, workspace: Path):
    project: Project = await daemon.call(Requests.PROJECT_INFO)
    assert project.root_path == str(workspace)
    assert project.name == "workspace"
    assert project.slug == "workspace"
    assert project.current_branch == "main"
    assert project.default_branch == "main"
    assert [lang.language for lang in project.languages] == ["python", "markdown"]
    exclude = (workspace / ".git/info/exclude").read_text()
    assert "/.devfactory/" in exclude
    assert not (workspace / ".gitignore").exists()


async def test_unknown_devfactory_method_is_method_not_found(daemon: DaemonClient):
    with pytest.raises(JsonRpcMethodNotFound):
        await daemon.protocol.send_request_async("devfactory/nope", {})
    assert (await daemon.call(Requests.HEALTH)).database_ok


async def test_bad_params_are_invalid_params_naming_the_field(daemon: DaemonClient):
    with pytest.raises(JsonRpcInvalidParams, match=r"runId"):
        await daemon.protocol.send_request_async(Requests.EVENTS, {"runId": "seven"})
    assert (await daemon.call(Requests.HEALTH)).database_ok


async def test_shutdown_and_exit_end_the_process_cleanly(workspace: Path):
    client = make_client()
    await client.start_io(sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio")
    await client.initialize_session(initialize_params(workspace))
    await client.shutdown_session()
    assert client._server is not None
    assert client._server.returncode == 0
    await client.stop()


async def test_a_failing_handler_answers_an_error_and_the_daemon_keeps_serving(workspace: Path):
    client = make_client()
    env = {**os.environ, "DEVFACTORY_INJECT_FAULT": Requests.PROJECT_INFO}
    await client.start_io(
        sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio", env=env
    )
    try:
        await client.initialize_session(initialize_params(workspace))
        with pytest.raises(Exception, match="fault injected into devfactory/project/info"):
            await client.call(Requests.PROJECT_INFO)
        health: Health = await client.call(Requests.HEALTH)
        assert health.database_ok
        await client.shutdown_session()
    finally:
        await client.stop()


async def test_invalid_settings_are_reported_and_defaults_apply(tmp_path: Path):
    root = make_git_repo(tmp_path / "ws")
    client = make_client()
    await client.start_io(sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio")
    try:
        await client.initialize_session(
            initialize_params(root, options={"maxConcurrentRuns": "many"})
        )
        health: Health = await client.call(Requests.HEALTH)
        assert health.database_ok
        await client.shutdown_session()
    finally:
        await client.stop()
    warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
    assert any("maxConcurrentRuns" in w and "defaults apply" in w for w in warnings)


async def test_a_workspace_git_refuses_is_explained(tmp_path: Path):
    """git's "dubious ownership" becomes an initialize error that says how to fix it."""
    root = make_git_repo(tmp_path / "ws")
    env = {**os.environ, "GIT_TEST_ASSUME_DIFFERENT_OWNER": "1"}
    with pytest.raises(RpcError, match="safe.directory") as caught:
        async with ProtocolClient.spawn(root, command=SERVER_COMMAND, env=env):
            pass
    assert "dubious ownership" in caught.value.message


def git_folder(tmp_path: Path, kind: str) -> Path:
    """A bare repository, a work tree's ``.git`` folder, or a folder inside one."""
    if kind == "bare":
        git(tmp_path, "init", "-q", "--bare", "repo.git")
        return tmp_path / "repo.git"
    git_dir = make_git_repo(tmp_path / "repo") / ".git"
    return git_dir / "hooks" if kind == "hooks" else git_dir


@pytest.mark.parametrize("kind", ["bare", "dotgit", "hooks"])
async def test_a_git_folder_is_refused_as_a_workspace(tmp_path: Path, kind: str):
    """A repository's own folder holds its config (remote URLs with tokens) and hooks:
    initialize refuses it, and writes nothing there."""
    root = git_folder(tmp_path, kind)
    with pytest.raises(RpcError, match="is inside a git repository's own folder"):
        async with ProtocolClient.spawn(root, command=SERVER_COMMAND):
            pass
    assert not (root / ".devfactory").exists()


def test_rpc_error_string_is_the_message():
    assert str(RpcError(-32602, "bad runId")) == "bad runId (code -32602)"
