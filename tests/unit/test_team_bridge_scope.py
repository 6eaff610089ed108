"""What the gateway can dispatch, what a local daemon bridges, and where its token comes from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.methods import REQUESTS, Requests
from devfactory.protocol.settings import TeamSettings
from devfactory.server.errors import Unavailable
from devfactory.server.features import create_server
from devfactory.server.team.bridge import read_token
from devfactory.server.team.scope import BRIDGED


def test_every_protocol_request_has_a_daemon_handler_the_gateway_dispatches_to() -> None:
    features = create_server().protocol.fm.features
    assert [m for m in REQUESTS if m not in features] == []


def test_runs_events_and_changes_are_bridged_and_local_work_is_not() -> None:
    for method in (Requests.RUNS_CREATE, Requests.RUNS_CANCEL, Requests.EVENTS,
                   Requests.HITL_RESPOND, Requests.CHANGES_APPROVE, Requests.REVIEWS_SUBMIT):  # fmt: skip
        assert method in BRIDGED
    for method in (Requests.SEARCH, Requests.INDEX_STATUS, Requests.HEALTH,
                   Requests.PROJECT_INFO, Requests.SNAPSHOTS_CREATE, Requests.GIT_PUSH):  # fmt: skip
        assert method not in BRIDGED


def test_the_token_comes_from_the_environment_then_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "token"
    settings = TeamSettings(gateway="wss://127.0.0.1:1", token_file=str(path))
    monkeypatch.delenv("DEVFACTORY_TOKEN", raising=False)
    with pytest.raises(Unavailable, match="DEVFACTORY_TOKEN"):
        read_token(settings)
    path.write_text("dft_fromfile\n")
    os.chmod(path, 0o644)
    with pytest.raises(Unavailable, match="chmod 600"):
        read_token(settings)
    os.chmod(path, 0o600)
    assert read_token(settings) == "dft_fromfile"
    monkeypatch.setenv("DEVFACTORY_TOKEN", "dft_fromenv")
    assert read_token(settings) == "dft_fromenv"
