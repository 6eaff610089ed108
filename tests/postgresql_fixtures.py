"""The fixtures of the PostgreSQL adapter's own tests: ``url``, a new database of the tests'
server, and ``store``, the adapter opened on it (closed afterwards). A module takes them by
importing them under their own names (``from postgresql_fixtures import store as store``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from postgresql_support import postgres_server

if TYPE_CHECKING:
    from devfactory.storage.postgresql import PostgresStore


@pytest.fixture
async def url() -> str:
    return postgres_server().new_database()


@pytest.fixture
async def store(url: str) -> AsyncIterator[PostgresStore]:
    from devfactory.storage.postgresql import PostgresStore  # psycopg is optional

    opened = await PostgresStore.open(url)
    yield opened
    await opened.close()
