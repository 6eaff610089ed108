"""``devfactory gateway`` end to end: a real gateway process over wss:// (a certificate made
for the test), on SQLite and on PostgreSQL, with tokens made by ``devfactory token create``.

Two clients see the same live events of one run (and the same as a replay: no gap, no
duplicate); an approve without ``changes:approve`` is refused by name and audited; a revoked
token is refused on its open connection and at the next handshake; frames and nesting are
bounded as on stdio.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol import errors as codes
from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import EventType
from devfactory.protocol.errors import RpcError
from devfactory.protocol.events import EventList
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunCreateParams, RunList
from devfactory.server import trust_review
from devfactory.storage import open_store
from gateway_support import (
    RunningGateway,
    collect,
    completed,
    ended,
    gateway,
    gateway_on_both_databases,
    of_run,
)
from runs_support import RUN_OPTIONS, call, finish, kinds, turn, write_script

pytestmark = pytest.mark.asyncio(loop_scope="module")


team = gateway_on_both_databases()


SCRIPT = [
    turn("Reading first", call("read_file", path="app.py")),
    turn("Changing it", call("write_file", path="app.py", content="VALUE = 2\n")),
    finish("value changed"),
]


async def test_two_clients_see_the_same_live_events_of_one_run(
    team: RunningGateway, tmp_path: Path
) -> None:
    script = write_script(tmp_path, "two", SCRIPT)
    creator = await team.client(team.token("creator-two", "runs:create"))
    watcher = await team.client(team.token("watcher-two"))
    live = {"creator": collect(creator), "watcher": collect(watcher)}
    try:
        run: Run = await creator.call(
            Requests.RUNS_CREATE,
            RunCreateParams(prompt="change the value", provider="scripted", model=str(script)),
        )
        for events in live.values():
            await asyncio.wait_for(ended(events, run.id), 60)
        replay: EventList = await watcher.call(Requests.EVENTS, {"runId": run.id, "limit": 1000})
    finally:
        await creator.close()
        await watcher.close()
    # Both were attached before the run existed: each saw all of it, once, in order.
    assert of_run(live["creator"], run.id) == replay.events
    assert of_run(live["watcher"], run.id) == replay.events
    assert completed(replay.events[-1]) and EventType.FINAL_SUMMARY in kinds(replay.events)


async def test_a_run_of_another_process_reaches_the_gateways_clients(
    team: RunningGateway, tmp_path: Path
) -> None:
    """A daemon of its own (a worker's, a developer's) on the same database: its events
    reach the gateway's clients through the events table (woken by NOTIFY on PostgreSQL)."""
    script = write_script(tmp_path, "elsewhere", SCRIPT)
    watcher = await team.client(team.token("watcher-elsewhere"))
    live = collect(watcher)
    try:
        async with DaemonClient.spawn(
            team.workspace, env=team.env, settings=RUN_OPTIONS, own_runs_only=True
        ) as daemon:
            run: Run = await daemon.call(
                Requests.RUNS_CREATE,
                RunCreateParams(prompt="elsewhere", provider="scripted", model=str(script)),
            )
            await asyncio.wait_for(ended(live, run.id), 60)
        replay: EventList = await watcher.call(Requests.EVENTS, {"runId": run.id, "limit": 1000})
    finally:
        await watcher.close()
    assert of_run(live, run.id) == replay.events


async def test_an_approve_without_the_ability_is_refused_by_name_and_audited(
    team: RunningGateway,
) -> None:
    client = await team.client(team.token("no-approve", "runs:create", "runs:control"))
    try:
        with pytest.raises(RpcError) as refused:
            await client.request(Requests.CHANGES_APPROVE, {"changeIds": [1]})
        listed = await client.request(Requests.RUNS_LIST, {})  # reads need any valid token
    finally:
        await client.close()
    assert refused.value.code == codes.REFUSED
    assert "lacks the 'changes:approve' ability" in refused.value.message
    assert isinstance(listed, dict)
    store = await open_store(team.storage)
    try:
        audit = await store.audit.list()
    finally:
        await store.close()
    entry = next(e for e in audit if e.token_name == "no-approve")
    assert (entry.method, entry.ability, entry.allowed) == (
        Requests.CHANGES_APPROVE, "changes:approve", False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (Requests.WORKSPACE_TRUST_STATUS, {}),
        (Requests.WORKSPACE_TRUST, {"digest": "0" * 64}),
        (Requests.WORKSPACE_REVOKE_TRUST, {}),
    ],
    ids=["status", "trust", "revoke"],
)
async def test_no_token_trusts_or_revokes_the_hosts_workspace_not_even_admin(
    team: RunningGateway, method: str, params: dict[str, Any]
) -> None:
    """Trust decides what the gateway's machine runs as its user and where its keys go: the
    host user's alone, refused for every token; the trust on record stays as it was."""
    client = await team.client(team.token(f"admin-{method.rsplit('/', 1)[1]}", "admin"))
    try:
        with pytest.raises(RpcError) as refused:
            await client.request(method, params)
    finally:
        await client.close()
    assert refused.value.code == codes.REFUSED
    assert "only the user of the gateway's machine may call it" in refused.value.message
    assert trust_review.status(team.workspace).trusted


async def test_yolo_runs_and_writing_the_project_map_need_more_than_their_method(
    team: RunningGateway,
) -> None:
    creator = await team.client(team.token("creator-yolo", "runs:create"))
    reader = await team.client(team.token("reader-map"))
    try:
        with pytest.raises(RpcError) as yolo:
            await creator.request(
                Requests.RUNS_CREATE, {"prompt": "x", "mode": "yolo", "start": False}
            )
        with pytest.raises(RpcError) as written:
            await reader.request(Requests.PROJECT_MAP, {})  # write: true by default
        drafts = await creator.request(Requests.RUNS_LIST, {"status": ["draft"]})
    finally:
        await creator.close()
        await reader.close()
    assert yolo.value.code == written.value.code == codes.REFUSED
    assert "lacks the 'changes:approve' ability for this call" in yolo.value.message
    assert "lacks the 'admin' ability for this call" in written.value.message
    assert drafts["runs"] == []
    assert not (team.workspace / "PROJECT_MAP.md").exists()


async def test_a_revoked_token_is_refused_on_its_connection_and_at_the_next(
    team: RunningGateway,
) -> None:
    token = team.token("leaving", "admin")
    client = await team.client(token)
    try:
        await client.request(Requests.RUNS_LIST, {})
        revoked = team.devfactory("token", "revoke", "leaving")
        assert revoked.returncode == 0, revoked.stderr
        with pytest.raises(RpcError, match="'leaving' was revoked"):
            await client.request(Requests.RUNS_LIST, {})
    finally:
        await client.close()
    with pytest.raises(ConnectionError, match="'leaving' was revoked"):
        await team.client(token)
    listed = team.devfactory("token", "list")
    assert "leaving" in listed.stdout and "revoked" in listed.stdout
    assert token not in listed.stdout


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "Authorization: Bearer"),
        ("dft_" + "a" * 36, "checksum"),
        ("ghp_0123", "starts with 'dft_'"),
    ],
)
async def test_a_missing_or_mistyped_token_is_refused_at_the_handshake(
    team: RunningGateway, token: str, reason: str
) -> None:
    with pytest.raises(ConnectionError, match=reason):
        await team.client(token)


async def test_methods_outside_the_protocol_and_deep_params_are_refused(
    team: RunningGateway,
) -> None:
    client = await team.client(team.token("prober"))
    deep: dict[str, Any] = {}
    for _ in range(40):
        deep = {"x": deep}
    try:
        with pytest.raises(RpcError) as lsp:
            await client.request("textDocument/hover", {})
        with pytest.raises(RpcError) as nested:
            await client.request(Requests.RUNS_LIST, {"metadata": deep})
        with pytest.raises(RpcError) as invalid:
            await client.request(Requests.RUNS_GET, {"runId": "one"})
    finally:
        await client.close()
    assert lsp.value.code == codes.METHOD_NOT_FOUND
    assert nested.value.code == codes.INVALID_PARAMS and "nest" in nested.value.message
    assert invalid.value.code == codes.INVALID_PARAMS and "runId" in invalid.value.message


PLANTED, LOCAL_RUN = "<planted file>", "<a run of the local user>"
REMOTE_SCRIPTED = [
    pytest.param(Requests.RUNS_CREATE,
                 {"prompt": "x", "provider": "scripted", "model": "/etc/hostname"},
                 id="a-host-file"),
    pytest.param(Requests.RUNS_CREATE, {"prompt": "x", "provider": "scripted", "model": PLANTED},
                 id="a-planted-file"),
    pytest.param(Requests.RUNS_CREATE, {"prompt": "x", "model": PLANTED},
                 id="the-default-provider"),
    pytest.param(Requests.INITIATIVES_CREATE, {"goal": "x", "model": PLANTED},
                 id="an-initiative"),
    pytest.param(Requests.RUNS_RETRY, {"runId": LOCAL_RUN}, id="a-retry-of-a-local-run"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "params"), REMOTE_SCRIPTED)
async def test_a_gateway_client_cannot_run_the_scripted_provider(
    tmp_path: Path, method: str, params: dict[str, Any]
) -> None:
    """The scripted provider plays a file of the gateway's machine named by its model: a
    runs:create token would read any file (its existence, a JSON file's keys in the error),
    block the gateway on a FIFO and choose the run's tool calls. Refused, default provider,
    initiative and retry alike (the workspace's default provider is ``scripted``), before
    anything is created or read; the gateway's local user still runs scripts."""
    planted = tmp_path / "outside" / "planted.json"
    planted.parent.mkdir()
    planted.write_text('{"AWS_SECRET=wJalrXUtnFEMI/K7MDENG": 1}')
    async with gateway(tmp_path, "sqlite", allow_scripted=False) as running:
        async with DaemonClient.spawn(
            running.workspace, env=running.env, settings=RUN_OPTIONS, own_runs_only=True
        ) as local:
            mine: Run = await local.call(
                Requests.RUNS_CREATE,
                RunCreateParams(prompt="local", provider="scripted", model=str(planted)),
            )
            failed = mine
            async with asyncio.timeout(30):
                while not failed.status.is_terminal:
                    await asyncio.sleep(0.05)
                    failed = await local.call(Requests.RUNS_GET, {"runId": mine.id})
        stand_in = {PLANTED: str(planted), LOCAL_RUN: mine.id}
        asked = {k: stand_in.get(v, v) for k, v in params.items()}
        client = await running.client(running.token("remote", "runs:create"))
        try:
            with pytest.raises(RpcError) as refused:
                await client.request(method, asked)
            runs: RunList = await client.call(Requests.RUNS_LIST, {})
        finally:
            await client.close()
    assert "is not a valid script" in (failed.failed_reason or ""), "the local user's script ran"
    assert refused.value.code == codes.REFUSED
    assert "'scripted' is refused through the gateway" in refused.value.message
    assert "AWS_SECRET" not in refused.value.message
    assert [r.id for r in runs.runs] == [mine.id], "nothing was created"
