"""A daemon built from some of the features works over the real protocol: what it runs answers,
what it leaves out is not offered, and a request needing a missing feature says which."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcMethodNotFound

from devfactory.protocol import errors as codes
from devfactory.protocol.enums import SearchMode
from devfactory.protocol.index import IndexRebuildParams, SearchParams, SearchResult
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health
from support import DaemonClient, initialize_params, make_client, make_git_repo


async def start_daemon(
    root: Path, features: list[str]
) -> tuple[DaemonClient, types.ServerCapabilities]:
    """The real daemon over stdio, built by ``create_server(features)``."""
    client = make_client()
    code = f"from devfactory.server.features import create_server; create_server({features!r}).start_io()"
    await client.start_io(sys.executable, "-P", "-c", code)
    result = await client.initialize_session(
        initialize_params(root, options={"index": {"watch": False, "embedder": "none"}})
    )
    return client, result.capabilities


async def test_core_events_and_index_without_runs_or_review(tmp_path: Path):
    root = make_git_repo(
        tmp_path / "ws", {"app/billing.py": "def compute_invoice_total(items):\n    return 0\n"}
    )
    client, capabilities = await start_daemon(root, ["events", "index"])
    try:
        health: Health = await client.call(Requests.HEALTH)
        assert health.database_ok and health.embedder is not None
        await client.call(Requests.INDEX_REBUILD, IndexRebuildParams())
        found: SearchResult = await client.call(
            Requests.SEARCH, SearchParams(query="compute_invoice_total", mode=SearchMode.LEXICAL)
        )
        assert [hit.path for hit in found.hits] == ["app/billing.py"]
        symbols = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="compute_invoice")
        )
        assert [s.name for s in symbols or []] == ["compute_invoice_total"]
        assert capabilities.code_action_provider is None  # review is not there to offer any
        for method in (Requests.RUNS_CREATE, Requests.CHANGES_LIST, Requests.SNAPSHOTS_CREATE):
            with pytest.raises(JsonRpcMethodNotFound):
                await client.protocol.send_request_async(method, {})
        await client.shutdown_session()
    finally:
        await client.stop()


async def test_review_without_runs_says_the_runs_feature_is_not_enabled(tmp_path: Path):
    root = make_git_repo(tmp_path / "ws")
    client, _ = await start_daemon(root, ["events", "snapshots", "review"])
    try:
        assert (await client.call(Requests.CHANGES_LIST)).changes == []
        with pytest.raises(JsonRpcException) as caught:
            await client.protocol.send_request_async(
                Requests.CHANGES_REQUEST_CHANGES, {"runId": 1, "note": "again"}
            )
        assert caught.value.code == codes.UNAVAILABLE
        assert caught.value.message == "the runs feature is not enabled in this daemon"
        await client.shutdown_session()
    finally:
        await client.stop()
