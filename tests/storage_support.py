"""The storage adapters the contract tests (``tests/unit/test_storage_contract*.py``) hold to
the ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from devfactory.storage import Store, open_store
from postgresql_support import postgres_server


async def _postgresql(folder: Path) -> Store:
    """A new database on the tests' PostgreSQL (skipped, with the reason, if there is none)."""
    return await open_store(postgres_server().new_database())


STORES: dict[str, Callable[[Path], Awaitable[Store]]] = {
    "sqlite": lambda folder: open_store(folder / "state" / "db.sqlite"),
    "postgresql": _postgresql,
}
"""Every storage adapter, opened in a test's folder: a second database joins the contract
tests by adding its opener here."""
