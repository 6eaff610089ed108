"""Fixtures of the in-process tier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devfactory.storage import Store, open_store
from storage_support import STORES


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A real database in the test's folder, closed afterwards."""
    opened = await open_store(tmp_path / "state" / "db.sqlite")
    yield opened
    await opened.close()


@pytest.fixture(params=sorted(STORES))
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A store of each adapter in turn (through the ports only), closed afterwards."""
    opened = await STORES[request.param](tmp_path)
    yield opened
    await opened.close()
