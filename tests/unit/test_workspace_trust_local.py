"""Trusting a workspace's own settings is the local user's alone: the team gateway refuses the
``devfactory/workspace/*`` trust methods for every token (``admin`` included, audited), the
handlers refuse a gateway's client themselves, a team daemon never forwards them, and the
ACP and MCP front-ends (and so the agents behind them) call none of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.methods import Requests
from devfactory.server.errors import Refused
from devfactory.server.features import create_server
from devfactory.server.features.trust import _local_workspace
from devfactory.server.team.abilities import LOCAL, missing_ability
from devfactory.server.team.callers import remote_caller
from devfactory.server.team.scope import BRIDGED
from devfactory.storage import Store
from team_support import project_authority

TRUST_METHODS = [
    Requests.WORKSPACE_TRUST_STATUS,
    Requests.WORKSPACE_TRUST,
    Requests.WORKSPACE_REVOKE_TRUST,
]
FRONT_ENDS = Path(__file__).parents[2] / "server/src/devfactory/server/adapters"


@pytest.mark.parametrize("method", TRUST_METHODS)
async def test_no_token_may_trust_the_workspace_not_even_admin(
    any_store: Store, method: str
) -> None:
    assert missing_ability(method, ["admin", "runs:create", "changes:approve"]) == LOCAL
    authority = await project_authority(any_store)
    secret, record = await authority.create("root", ["admin"])
    with pytest.raises(Refused, match="only the user of the gateway's machine may call it"):
        await authority.authorize(secret, method, {"digest": "0" * 64})
    audit = await any_store.audit.list()
    assert [(e.token_id, e.method, e.ability, e.allowed) for e in audit] == [
        (record.id, method, LOCAL, False)
    ]


@pytest.mark.parametrize("method", TRUST_METHODS)
async def test_the_handlers_refuse_a_gateway_client_themselves(method: str) -> None:
    server = create_server(["trust"])
    with remote_caller("root"), pytest.raises(Refused, match="only the user of this machine"):
        await _local_workspace(server, method)


def test_no_front_end_or_team_daemon_reaches_the_trust_methods() -> None:
    assert not BRIDGED & set(TRUST_METHODS)
    names = [*TRUST_METHODS, "WORKSPACE_TRUST", "WORKSPACE_REVOKE_TRUST", "trust_review"]
    for source in FRONT_ENDS.rglob("*.py"):
        text = source.read_text("utf-8")
        assert not [n for n in names if n in text], f"{source} reaches a trust method"
