"""Fixtures shared by every tier: temporary git workspaces and the real daemon over stdio."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from hypothesis import settings
from pytest_lsp import ClientServerConfig

sys.path.insert(0, str(Path(__file__).parent))

from support import (
    CLIENT_PROFILES,
    SERVER_COMMAND,
    DaemonClient,
    initialize_params,
    make_client,
    make_git_repo,
)

# Property tests: new examples on every local run, the same ones on every CI run (CI=true).
# No deadline: an example's time is mostly a real daemon's, which a busy machine stretches.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small git repository the daemon serves; modules override it for richer content."""
    return make_git_repo(
        tmp_path / "workspace",
        {"README.md": "# sample\n", "app/main.py": "def main():\n    return 1\n"},
    )


@pytest.fixture
def init_options() -> dict[str, object]:
    """initializationOptions sent by the ``daemon`` fixture; override per module."""
    return {}


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_client),
    params=CLIENT_PROFILES,
)
async def daemon(
    lsp_client: DaemonClient,
    request: pytest.FixtureRequest,
    workspace: Path,
    init_options: dict[str, object],
) -> AsyncIterator[None]:
    """The real daemon process, initialized on ``workspace`` by a VS Code-like and a
    Neovim-like client."""
    await lsp_client.initialize_session(initialize_params(workspace, request.param, init_options))
    yield
    await lsp_client.shutdown_session()
