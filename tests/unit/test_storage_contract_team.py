"""The storage contract of team mode's records (tokens, audit, team keys) on every adapter."""

from __future__ import annotations

import pytest

from devfactory.storage import Store
from devfactory.storage.errors import AlreadyExists
from devfactory.storage.ports import AuditEntry


async def project(store: Store, root: str = "/w") -> int:
    registered = await store.projects.register(
        root_path=root, name=root, slug="w", default_branch=None, current_branch=None
    )
    return registered.id


async def test_tokens_are_found_by_digest_listed_and_revoked(any_store: Store) -> None:
    p = await project(any_store)
    ci = await any_store.api_tokens.create(p, "ci", "dft_abcd", "d1" * 32, ["runs:create"])
    alice = await any_store.api_tokens.create(p, "alice", "dft_efgh", "d2" * 32, [])
    assert (ci.project_id, ci.name, ci.hint, ci.abilities, ci.revoked_at) == (
        p, "ci", "dft_abcd", ["runs:create"], None,
    )  # fmt: skip

    found = await any_store.api_tokens.by_digest("d1" * 32)
    assert found is not None and found[0] == ci and found[1] == "d1" * 32
    assert await any_store.api_tokens.by_digest("ff" * 32) is None

    await any_store.api_tokens.mark_used(ci.id)
    assert await any_store.api_tokens.revoke(p, "ci") is True
    assert await any_store.api_tokens.revoke(p, "ci") is False  # already revoked
    assert await any_store.api_tokens.revoke(p, "nobody") is False
    listed = await any_store.api_tokens.list(p)
    assert [t.name for t in listed] == ["ci", "alice"]
    assert listed[0].revoked_at is not None and listed[0].last_used_at is not None
    assert listed[1] == alice


async def test_a_live_token_name_is_unique_and_free_again_once_revoked(any_store: Store) -> None:
    p = await project(any_store)
    await any_store.api_tokens.create(p, "ci", "dft_1", "a1" * 32, [])
    with pytest.raises(AlreadyExists, match="'ci'"):
        await any_store.api_tokens.create(p, "ci", "dft_2", "a2" * 32, [])
    await any_store.api_tokens.revoke(p, "ci")
    again = await any_store.api_tokens.create(p, "ci", "dft_3", "a3" * 32, ["admin"])
    assert again.abilities == ["admin"]


async def test_tokens_are_listed_and_revoked_per_project(any_store: Store) -> None:
    alpha, beta = await project(any_store, "/alpha"), await project(any_store, "/beta")
    ci_alpha = await any_store.api_tokens.create(alpha, "ci", "dft_1", "c1" * 32, [])
    ci_beta = await any_store.api_tokens.create(beta, "ci", "dft_2", "c2" * 32, ["admin"])
    assert await any_store.api_tokens.list(alpha) == [ci_alpha]
    assert await any_store.api_tokens.revoke(alpha, "ci") is True
    assert await any_store.api_tokens.list(beta) == [ci_beta], "beta's ci is still live"
    found = await any_store.api_tokens.by_digest("c2" * 32)
    assert found is not None and found[0].project_id == beta


async def test_audit_entries_newest_first(any_store: Store) -> None:
    token = await any_store.api_tokens.create(
        await project(any_store), "ci", "dft_1", "b1" * 32, []
    )
    await any_store.audit.record(
        token_id=token.id, token_name="ci", method="devfactory/runs/list", ability="read",
        allowed=True,
    )  # fmt: skip
    await any_store.audit.record(
        token_id=None, token_name="", method="devfactory/change/approve",
        ability="changes:approve", allowed=False, reason="no valid token",
    )  # fmt: skip
    entries = await any_store.audit.list()
    assert [(e.token_id, e.method, e.ability, e.allowed, e.reason) for e in entries] == [
        (None, "devfactory/change/approve", "changes:approve", False, "no valid token"),
        (token.id, "devfactory/runs/list", "read", True, ""),
    ]
    assert all(isinstance(e, AuditEntry) and e.created_at for e in entries)
    assert len(await any_store.audit.list(limit=1)) == 1


async def test_team_keys_hold_bytes_replaced_and_deleted(any_store: Store) -> None:
    await any_store.team_keys.put("openai", b"\x00cipher\xff")
    await any_store.team_keys.put("anthropic", b"one")
    await any_store.team_keys.put("anthropic", b"two")
    found = await any_store.team_keys.get("anthropic")
    assert found is not None and found.ciphertext == b"two"
    assert [(k.provider, k.ciphertext) for k in await any_store.team_keys.list()] == [
        ("anthropic", b"two"),
        ("openai", b"\x00cipher\xff"),
    ]
    assert await any_store.team_keys.delete("openai") is True
    assert await any_store.team_keys.delete("openai") is False
    assert await any_store.team_keys.get("openai") is None
