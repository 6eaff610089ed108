"""The real daemon against what an editor should never send: every request is answered, no
dialog pops up, no traceback leaves the process, and the daemon keeps serving.

Frames are written byte by byte (``wire_support``): oversized and malformed headers, bad JSON,
batches, envelopes without params, LSP requests with params that do not fit, a second
``initialize``, requests after ``shutdown``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from devfactory.protocol import errors as codes
from devfactory.protocol.errors import RpcError
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health
from support import SERVER_COMMAND, make_git_repo
from wire_support import OMIT, WireClient, frame, has_traceback

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPTIONS = {"index": {"enabled": False, "watch": False}}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("wire") / "ws", {"calc.py": "x = 1\n"})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def wire(workspace: Path) -> AsyncIterator[WireClient]:
    async with WireClient.spawn(workspace, command=SERVER_COMMAND, settings=OPTIONS) as client:
        yield client  # type: ignore[misc]


async def healthy(client: WireClient) -> Health:
    health: Health = await asyncio.wait_for(client.call(Requests.HEALTH), 15)
    assert health.database_ok
    return health


async def wait_for_error_without_id(client: WireClient, seen: int) -> dict[str, Any]:
    async def poll() -> dict[str, Any]:
        while len(client.errors_without_id()) <= seen:
            await asyncio.sleep(0.02)
        return client.errors_without_id()[seen]

    return await asyncio.wait_for(poll(), 10)


async def test_a_request_without_params_is_answered(wire: WireClient):
    reply = await wire.exchange(Requests.HEALTH)
    assert reply["result"]["databaseOk"] is True
    reply = await wire.exchange(Requests.PROJECT_INFO, None)
    assert reply["result"]["name"] == "ws"


LSP_BAD_PARAMS = [
    ("workspace/symbol", OMIT, codes.INVALID_PARAMS, "$.params"),
    ("textDocument/codeAction", {}, codes.INVALID_PARAMS, "$.params.textDocument"),
    ("workspace/executeCommand", {}, codes.INVALID_PARAMS, "$.params.command"),
    ("textDocument/hover", {}, codes.INVALID_PARAMS, "$.params.textDocument"),
    ("textDocument/hover", "a string", codes.INVALID_REQUEST, "must be an object or an array"),
    ("initialized", {}, codes.INVALID_REQUEST, "is a notification"),
]


@pytest.mark.parametrize(("method", "params", "code", "named"), LSP_BAD_PARAMS)
async def test_lsp_requests_with_params_that_do_not_fit_are_answered(
    wire: WireClient, method: str, params: Any, code: int, named: str
):
    reply = await wire.exchange(method, params)
    assert reply["error"]["code"] == code
    assert named in reply["error"]["message"]
    assert not has_traceback(reply)
    await healthy(wire)


HOSTILE_VALUES = [
    (Requests.RUNS_GET, {"runId": 2**70}, "$.runId"),
    (Requests.EVENTS, {"runId": 1, "since": -(2**64)}, "$.since"),
    (Requests.RUNS_CREATE, {"prompt": "a\x00b"}, "$.prompt"),
    (Requests.PROJECT_CLONE, {"repositoryUrl": "x", "path": "a\x00b"}, "$.path"),
    (Requests.RUNS_CREATE, {"prompt": "ok", "context\x00": 1}, "$"),
]


@pytest.mark.parametrize(("method", "params", "field"), HOSTILE_VALUES)
async def test_values_no_handler_can_store_are_invalid_params_naming_the_field(
    wire: WireClient, method: str, params: Any, field: str
):
    reply = await wire.exchange(method, params)
    assert reply["error"]["code"] == codes.INVALID_PARAMS, reply
    assert f"`{field}`" in reply["error"]["message"]
    assert not has_traceback(reply)


async def test_an_internal_error_carries_no_traceback(workspace: Path):
    env = {**os.environ, "DEVFACTORY_INJECT_FAULT": Requests.PROJECT_INFO}
    async with WireClient.spawn(
        workspace, command=SERVER_COMMAND, settings=OPTIONS, env=env
    ) as client:
        reply = await client.exchange(Requests.PROJECT_INFO, {})
        assert reply["error"]["code"] == codes.INTERNAL_ERROR
        assert "fault injected" in reply["error"]["message"]
        assert "data" not in reply["error"] or reply["error"]["data"] is None
        assert not has_traceback(reply)


BAD_BODIES = [
    (b"{bad}", codes.PARSE_ERROR),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "devfactory/health", "params": NaN}', -32700),
    (b"[]", codes.INVALID_REQUEST),
    (b'[{"jsonrpc": "2.0", "id": 1, "method": "devfactory/health"}]', codes.INVALID_REQUEST),
    (b"42", codes.INVALID_REQUEST),
    (b'"\\ud800"', codes.PARSE_ERROR),
    (b'{"jsonrpc": "1.0", "method": "devfactory/health"}', codes.INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": [1], "method": "devfactory/health"}', codes.INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "method": 7}', codes.INVALID_REQUEST),
    (b"[" * 100_000 + b"]" * 100_000, codes.PARSE_ERROR),
    (b"\xff\xfe not utf-8", codes.PARSE_ERROR),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES, ids=range(len(BAD_BODIES)))
async def test_a_bad_message_is_answered_without_id_and_logged_not_shown(
    wire: WireClient, body: bytes, code: int
):
    seen = len(wire.errors_without_id())
    await wire.write(frame(body))
    error = await wait_for_error_without_id(wire, seen)
    assert error["error"]["code"] == code
    assert not has_traceback(error)
    await healthy(wire)
    assert wire.dialogs() == []


BAD_FRAMES = [
    b"Content-Length: 68719476736\r\n\r\n{}",
    b"Content-Length: 99999999999999999999999999999999999\r\n\r\n{}",
    b"Content-Length: -5\r\n\r\n{}",
    b"Content-Length: five\r\n\r\n{}",
    b"Content-Type: application/json\r\n\r\n{}",
    b"garbage without any header\r\n\r\n",
    b"X" * 300_000 + b"\r\n\r\n",
]


@pytest.mark.parametrize("data", BAD_FRAMES, ids=range(len(BAD_FRAMES)))
async def test_a_bad_frame_is_refused_and_the_daemon_keeps_serving(wire: WireClient, data: bytes):
    seen = len(wire.errors_without_id())
    await wire.write(data)
    error = await wait_for_error_without_id(wire, seen)
    assert error["error"]["code"] in (codes.PARSE_ERROR, codes.INVALID_REQUEST)
    await healthy(wire)
    assert wire.dialogs() == []


async def test_an_oversized_frame_says_what_the_limit_is(wire: WireClient):
    seen = len(wire.errors_without_id())
    await wire.write(b"Content-Length: 68719476736\r\n\r\n{}")
    error = await wait_for_error_without_id(wire, seen)
    assert error["error"]["code"] == codes.INVALID_REQUEST
    assert "64 MiB" in error["error"]["message"]
    await healthy(wire)


async def test_a_notification_with_bad_params_is_logged_not_shown(wire: WireClient):
    await wire.notify("textDocument/didOpen", {"textDocument": 5})
    await wire.notify("devfactory/nothing", [1, 2])
    await healthy(wire)
    assert wire.dialogs() == []


async def test_a_second_initialize_is_refused_and_exit_still_ends_the_process(
    workspace: Path, tmp_path: Path
):
    other = make_git_repo(tmp_path / "other")
    client_cm = WireClient.spawn(workspace, command=SERVER_COMMAND, settings=OPTIONS)
    async with client_cm as client:
        reply = await client.exchange(
            "initialize", {"capabilities": {}, "rootUri": other.as_uri(), "processId": None}
        )
        assert reply["error"]["code"] == codes.INVALID_REQUEST
        assert "already initialized" in reply["error"]["message"]
        health = await healthy(client)
        assert health.database_path == str(workspace / ".devfactory" / "devfactory.db")
        process = client.process
    assert process.returncode == 0
    assert not (other / ".devfactory").exists()


async def test_requests_after_shutdown_are_refused(workspace: Path):
    async with WireClient.spawn(workspace, command=SERVER_COMMAND, settings=OPTIONS) as client:
        assert (await client.exchange("shutdown"))["result"] is None
        reply = await client.exchange(Requests.HEALTH, {})
        assert reply["error"]["code"] == codes.INVALID_REQUEST
        assert "shut" in reply["error"]["message"]
        await client.notify("exit")
        assert await asyncio.wait_for(client.process.wait(), 10) == 0


async def test_a_corrupt_database_is_explained_without_a_traceback(tmp_path: Path):
    root = make_git_repo(tmp_path / "ws")
    database = root / ".devfactory" / "devfactory.db"
    database.parent.mkdir()
    database.write_bytes(b"this is not a SQLite database" * 500)
    with pytest.raises(RpcError) as caught:
        async with WireClient.spawn(root, command=SERVER_COMMAND, settings=OPTIONS):
            pass
    assert str(database) in caught.value.message
    assert "move it aside" in caught.value.message
    assert caught.value.data is None
