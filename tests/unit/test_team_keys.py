"""Provider keys stored for the team: encrypted in the database, opened with a 0600 key file,
and handed to the provider's accounts when a run starts it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.settings import ProviderSettings
from devfactory.server.agents.providers.request import TEAM_ACCOUNT, ProviderRequest
from devfactory.server.team.keys import TeamKeyError, TeamKeys
from devfactory.storage import Store

SECRET = "sk-team-0123456789abcdef"


async def test_a_key_round_trips_and_the_database_never_holds_it(
    any_store: Store, tmp_path: Path
) -> None:
    keys = TeamKeys(any_store, tmp_path / "conf" / "team.key")
    await keys.set("openai", SECRET)
    assert os.stat(keys.key_file).st_mode & 0o777 == 0o600
    stored = await any_store.team_keys.get("openai")
    assert stored is not None and SECRET.encode() not in stored.ciphertext
    assert await keys.get("openai") == SECRET
    assert await keys.get("anthropic") is None


async def test_the_whole_database_does_not_contain_the_plaintext(tmp_path: Path) -> None:
    from devfactory.storage import open_store

    path = tmp_path / "db.sqlite"
    store = await open_store(path)
    await TeamKeys(store, tmp_path / "team.key").set("anthropic", SECRET)
    await store.close()
    every_byte = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("db."))
    assert SECRET.encode() not in every_byte


async def test_a_key_file_others_can_read_or_another_teams_file_is_refused(
    any_store: Store, tmp_path: Path
) -> None:
    keys = TeamKeys(any_store, tmp_path / "team.key")
    await keys.set("openai", SECRET)
    os.chmod(keys.key_file, 0o644)
    with pytest.raises(TeamKeyError, match="chmod 600"):
        await keys.get("openai")
    other = TeamKeys(any_store, tmp_path / "other.key")
    await TeamKeys(any_store, other.key_file).set("scratch", "x")  # makes the other file
    with pytest.raises(TeamKeyError, match="not encrypted with"):
        await other.get("openai")
    with pytest.raises(TeamKeyError, match="does not exist"):
        await TeamKeys(any_store, tmp_path / "missing.key").get("openai")


async def test_the_team_key_is_an_account_of_the_provider(any_store: Store, tmp_path: Path) -> None:
    config = ProviderSettings(api_key_env=["DEVFACTORY_TEST_UNSET_KEY"])
    request = ProviderRequest("openai", config, "m", tmp_path, any_store, team_key=SECRET)
    assert request.pool(keyless=False).labels == [TEAM_ACCOUNT]
