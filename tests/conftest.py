"""Fixtures shared by every tier: temporary git workspaces and the real daemon over stdio."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# The user's config folder (their settings, trusted workspaces, a team token) is this run's own:
# no test reads or writes the real one, and every daemon a test starts inherits it.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="devfactory-test-config-")

from devfactory.server.config import STORAGE_VARIABLE
from postgresql_support import postgres_server
from runs_support import start_daemon, stop_daemon
from support import CLIENT_PROFILES, DaemonClient, make_git_repo

atexit.register(shutil.rmtree, os.environ["XDG_CONFIG_HOME"], ignore_errors=True)

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


DATABASES = ["sqlite", "postgresql"]
"""The engines a test marked ``both_databases`` runs on."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_databases`` run once per engine (``scope="module"`` where the
    module's tests share one daemon, so each engine gets its own)."""
    marker = metafunc.definition.get_closest_marker("both_databases")
    if marker is not None:
        scope = marker.kwargs.get("scope", "function")
        metafunc.parametrize("database", DATABASES, indirect=True, scope=scope)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL runs with the VS Code-like profile only: a client profile changes what the
    editor is sent, never what is stored, and SQLite covers both profiles."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgresql = params.get("database") == "postgresql"
        (dropped if on_postgresql and params.get("daemon") == "neovim" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True, scope="module")
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The engine of the store every daemon and CLI the test starts uses: the workspace's own
    SQLite file, or (for ``both_databases`` tests) a new PostgreSQL database, named to them
    by ``DEVFACTORY_STORAGE``: one per test, or per module with ``scope="module"``. Skips, or
    fails in CI, where there is no PostgreSQL."""
    engine: str = getattr(request, "param", "sqlite")
    with pytest.MonkeyPatch.context() as patch:
        if engine == "postgresql":
            patch.setenv(STORAGE_VARIABLE, postgres_server().new_database(migrated=True))
        else:
            patch.delenv(STORAGE_VARIABLE, raising=False)
        yield engine


@pytest_asyncio.fixture(params=CLIENT_PROFILES)
async def daemon(
    request: pytest.FixtureRequest,
    database: str,
    workspace: Path,
    init_options: dict[str, object],
) -> AsyncIterator[DaemonClient]:
    """The real daemon process, initialized on ``workspace`` by a VS Code-like and a
    Neovim-like client."""
    client = await start_daemon(workspace, init_options, profile=request.param)
    yield client
    await stop_daemon(client)
