"""The storage adapters the contract tests (``tests/unit/test_storage_contract*.py``) hold to
the ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from devfactory.storage import Store, open_store

STORES: dict[str, Callable[[Path], Awaitable[Store]]] = {
    "sqlite": lambda folder: open_store(folder / "state" / "db.sqlite"),
}
"""Every storage adapter, opened in a test's folder: a second database joins the contract
tests by adding its opener here."""
