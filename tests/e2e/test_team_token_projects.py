"""An API token belongs to the project it was made for: two workspaces on one database (the
team's PostgreSQL, or one SQLite file that ``DEVFACTORY_STORAGE`` names for both) do not
accept, list or revoke each other's tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway_support import TEAM_TOML, RunningGateway, serve_gateway, storage_env
from support import make_git_repo


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_token_works_only_on_its_own_projects_gateway(tmp_path: Path, engine: str) -> None:
    alpha = make_git_repo(tmp_path / "alpha", {"app.py": "A = 1\n", "devfactory.toml": TEAM_TOML})
    beta = make_git_repo(tmp_path / "beta", {"app.py": "B = 1\n", "devfactory.toml": TEAM_TOML})
    env, storage = storage_env(engine, alpha)
    env = {**env, "DEVFACTORY_STORAGE": storage}  # one database for both workspaces
    on_beta = RunningGateway("", beta, Path(), env, storage)
    beta_token = on_beta.token("ci", "admin")
    async with serve_gateway(alpha, tmp_path, env, storage) as on_alpha:
        with pytest.raises(ConnectionError, match="not known to this gateway"):
            await on_alpha.client(beta_token)
        alpha_token = on_alpha.token("ci", "runs:create")  # the same name, another project
        client = await on_alpha.client(alpha_token)
        await client.close()
        listed = on_alpha.devfactory("token", "list").stdout
        revoked = on_alpha.devfactory("token", "revoke", "ci")
    assert listed.count("ci\t") == 1 and "runs:create" in listed and "admin" not in listed
    assert revoked.returncode == 0
    beta_listed = on_beta.devfactory("token", "list").stdout
    assert "admin" in beta_listed and "live" in beta_listed, "alpha's revoke left beta's ci"
