"""The real daemon over stdio: lifecycle, health, project info and error handling."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound

from devfactory.protocol.client import DaemonClient as ProtocolClient
from devfactory.protocol.errors import RpcError
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health, Project
from support import SERVER_COMMAND, DaemonClient, initialize_params, make_client, make_git_repo


async def test_health_reports_versions_database_and_project(daemon: DaemonClient, workspace: Path):
    health: Health = await daemon.call(Requests.HEALTH)
    assert health.database_ok
    assert health.sqlite_vec_version and health.sqlite_vec_version.startswith("v")
    assert health.database_path == str(workspace / ".devfactory" / "devfactory.db")
    assert health.project_id is not None
    assert health.counts["runs"] == 0
    assert Path(health.log_path).is_file()


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


def test_rpc_error_string_is_the_message():
    assert str(RpcError(-32602, "bad runId")) == "bad runId (code -32602)"
