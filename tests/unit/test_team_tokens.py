"""API tokens: their format and checksum, the method -> ability table, and ``Authority``
(refusals named and audited, revoked tokens refused) over every storage adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.methods import REQUESTS, Requests
from devfactory.server.errors import Refused
from devfactory.server.team import tokens
from devfactory.server.team.abilities import METHOD_ABILITY, missing_ability, parse_abilities
from devfactory.storage import Store
from devfactory.storage.sqlite import SqliteStore
from team_support import project_authority


def test_a_new_token_has_the_prefix_and_a_checksum_that_catches_typos() -> None:
    token = tokens.new_token()
    assert token.startswith("dft_") and len(token) == tokens.TOKEN_LENGTH
    assert tokens.format_problem(token) is None
    typo = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert "checksum" in (tokens.format_problem(typo) or "")
    assert "starts with" in (tokens.format_problem("ghp_" + token[4:]) or "")
    assert "characters" in (tokens.format_problem(token[:-1]) or "")
    assert tokens.new_token() != token
    assert tokens.digest(token) != token and len(tokens.digest(token)) == 64


def test_every_protocol_method_needs_a_known_ability() -> None:
    assert set(METHOD_ABILITY) == set(REQUESTS)
    assert missing_ability(Requests.RUNS_LIST, []) is None
    assert missing_ability(Requests.CHANGES_APPROVE, ["runs:create"]) == "changes:approve"
    assert missing_ability(Requests.CHANGES_APPROVE, ["admin"]) is None
    assert missing_ability("devfactory/unknown", ["runs:create"]) == "admin"


def test_abilities_are_checked_by_name() -> None:
    assert parse_abilities(["git:push", "runs:create", "git:push"]) == ["runs:create", "git:push"]
    with pytest.raises(ValueError, match="unknown ability 'runs:delete'"):
        parse_abilities(["runs:delete"])


async def test_an_approve_without_the_ability_is_refused_and_audited(any_store: Store) -> None:
    authority = await project_authority(any_store)
    secret, record = await authority.create("ci", ["runs:create"])
    assert (await any_store.api_tokens.list(authority.project_id))[0].hint == secret[:8]
    assert secret not in repr(await any_store.api_tokens.list(authority.project_id))

    await authority.authorize(secret, Requests.RUNS_CREATE, {"prompt": "x"})
    await authority.authorize(secret, Requests.RUNS_LIST)  # reads: any valid token
    with pytest.raises(Refused, match="lacks the 'changes:approve' ability"):
        await authority.authorize(secret, Requests.CHANGES_APPROVE)

    audit = await any_store.audit.list()
    assert [(e.token_id, e.method, e.ability, e.allowed) for e in audit] == [
        (record.id, Requests.CHANGES_APPROVE, "changes:approve", False),
        (record.id, Requests.RUNS_CREATE, "runs:create", True),
    ]
    assert "changes:approve" in audit[0].reason


async def test_revoked_unknown_and_mistyped_tokens_are_refused(any_store: Store) -> None:
    authority = await project_authority(any_store)
    secret, _ = await authority.create("alice", ["admin"])
    await authority.authorize(secret, Requests.GIT_PUSH)
    assert await any_store.api_tokens.revoke(authority.project_id, "alice")
    with pytest.raises(Refused, match="'alice' was revoked"):
        await authority.authorize(secret, Requests.RUNS_LIST)
    with pytest.raises(Refused, match="not known"):
        await authority.authorize(tokens.new_token(), Requests.RUNS_LIST)
    with pytest.raises(Refused, match="checksum"):
        await authority.authorize(secret[:-1] + ("0" if secret[-1] != "0" else "1"), "x")
    refused = [e for e in await any_store.audit.list() if not e.allowed]
    assert len(refused) == 3 and refused[-1].token_name == "alice"


async def test_a_token_of_another_project_is_unknown_here(any_store: Store) -> None:
    alpha = await project_authority(any_store, "/alpha")
    beta = await project_authority(any_store, "/beta")
    secret, _ = await beta.create("ci", ["admin"])
    await beta.authorize(secret, Requests.RUNS_LIST)
    assert await alpha.identify(secret) == (None, "the token is not known to this gateway")
    with pytest.raises(Refused, match="not known to this gateway"):
        await alpha.authorize(secret, Requests.RUNS_LIST)


async def test_a_token_made_before_tokens_had_a_project_is_refused_by_every_gateway(
    tmp_path: Path,
) -> None:
    store = await SqliteStore.open(tmp_path / "devfactory.db")
    try:
        authority = await project_authority(store)
        secret, _ = await authority.create("old-ci", ["admin"])
        await store.db.execute("UPDATE api_tokens SET project_id = NULL", ())  # as migrated
        with pytest.raises(Refused, match="made before tokens belonged to a project.*re-create"):
            await authority.authorize(secret, Requests.RUNS_LIST)
        (listed,) = await store.api_tokens.list(authority.project_id)
        assert listed.project_id is None, "listed, so that it can be revoked"
        assert await store.api_tokens.revoke(authority.project_id, "old-ci")
    finally:
        await store.close()
