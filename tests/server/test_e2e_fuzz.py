"""Property-based fuzzing of one real daemon over raw stdio.

Every ``devfactory/*`` method of the protocol registry gets valid-shaped and hostile params
(``fuzz_support``); LSP requests and notifications get random params; malformed frames go in
between. The invariants: every request is answered (a result or a JSON-RPC error), hostile
params are refused as such, no response carries a traceback, nothing pops up in the editor,
and the daemon stays alive and answers ``devfactory/health`` at the end.

Runs fail fast here (no provider has a key, no script exists, git may use only local
transports), so methods that start real work are fuzzed too. Example counts are fixed and
CI runs the same examples every time (the ``ci`` profile in conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from devfactory.protocol import errors as codes
from devfactory.protocol.methods import REQUESTS, Requests
from fuzz_support import (
    HOSTILITIES,
    hostile_params,
    json_values,
    malformed_streams,
    valid_params,
)
from support import SERVER_COMMAND, make_git_repo
from wire_support import OMIT, WireClient, has_traceback

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

ANSWER_TIMEOUT_S = 30
REFUSED = {codes.INVALID_PARAMS, codes.INVALID_REQUEST}
FUZZ = settings(
    max_examples=6,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LSP_REQUESTS = sorted(
    method
    for method, (message, *_) in types.METHOD_TO_TYPES.items()
    if "id" in attrs.fields_dict(message)
)
LIFECYCLE = {types.INITIALIZE, types.SHUTDOWN, types.EXIT}


def daemon_env() -> dict[str, str]:
    """No provider keys (runs fail fast) and git on local transports only (no network)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    return {**env, "GIT_ALLOW_PROTOCOL": "file", "GIT_SSH_COMMAND": "false"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("fuzz") / "ws", {"calc.py": "x = 1\n"})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def wire(workspace: Path) -> AsyncIterator[WireClient]:
    settings = {"defaultProvider": "scripted", "index": {"enabled": False, "watch": False}}
    async with WireClient.spawn(
        workspace, command=SERVER_COMMAND, settings=settings, env=daemon_env()
    ) as client:
        yield client  # type: ignore[misc]


async def answer(wire: WireClient, method: str, params: Any) -> dict[str, Any]:
    """The daemon's response, checked against the invariants every response keeps."""
    try:
        reply = await wire.exchange(method, params, timeout=ANSWER_TIMEOUT_S)
    except TimeoutError:
        pytest.fail(f"{method} was not answered within {ANSWER_TIMEOUT_S} s: {params!r}"[:2000])
    assert ("result" in reply) != ("error" in reply), reply
    assert not has_traceback(reply), reply
    return reply


@pytest.mark.parametrize("method", sorted(REQUESTS))
@FUZZ
@given(data=st.data())
async def test_valid_shaped_params_are_answered(wire: WireClient, method: str, data: st.DataObject):
    params = data.draw(valid_params(method), label="params")
    reply = await answer(wire, method, params)
    if "error" in reply:
        assert reply["error"]["code"] != codes.INVALID_REQUEST, reply


@pytest.mark.parametrize("how", HOSTILITIES)
@pytest.mark.parametrize("method", sorted(REQUESTS))
@settings(FUZZ, max_examples=3)
@given(data=st.data())
async def test_hostile_params_are_refused(
    wire: WireClient, method: str, how: str, data: st.DataObject
):
    params, must_fail = data.draw(hostile_params(method, how), label="params")
    reply = await answer(wire, method, params)
    if must_fail:
        assert "error" in reply, reply
        assert reply["error"]["code"] in REFUSED, reply


@settings(FUZZ, max_examples=40)
@given(
    method=st.sampled_from([m for m in LSP_REQUESTS if m not in LIFECYCLE]),
    params=st.just(OMIT) | json_values,
)
async def test_lsp_requests_with_any_params_are_answered(
    wire: WireClient, method: str, params: Any
):
    await answer(wire, method, params)


@settings(FUZZ, max_examples=40)
@given(
    method=st.sampled_from(
        sorted(m for m in types.METHOD_TO_TYPES if m not in LSP_REQUESTS and m not in LIFECYCLE)
    ),
    params=json_values,
)
async def test_lsp_notifications_with_any_params_leave_the_daemon_serving(
    wire: WireClient, method: str, params: Any
):
    await wire.notify(method, params)
    await answer(wire, Requests.HEALTH, {})


@settings(FUZZ, max_examples=60)
@given(stream=malformed_streams())
async def test_malformed_frames_leave_the_daemon_serving(wire: WireClient, stream: bytes):
    await wire.write(stream)
    reply = await answer(wire, Requests.HEALTH, {})
    assert reply["result"]["databaseOk"] is True


async def test_after_all_that_the_daemon_is_healthy_and_showed_nothing(wire: WireClient):
    reply = await answer(wire, Requests.HEALTH, {})
    assert reply["result"]["databaseOk"] is True
    assert wire.process.returncode is None
    assert wire.dialogs() == []
    responses = [m for m in wire.received if "method" not in m]
    assert [m for m in responses if has_traceback(m)] == []
