"""Numbered SQL migrations, shipped beside each adapter as ``NNNN_name.sql`` files."""

from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass

from .errors import DatabaseError

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    """The numbered SQL files of ``<package>.migrations``, in order, numbered without a gap."""
    folder = importlib.resources.files(package) / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise DatabaseError(
                f"migration {migration.name} is out of sequence (expected {expected})"
            )
    return found


def too_new(where: str, current: int, latest: int) -> str:
    """What to do about a database whose schema is newer than this DevFactory knows."""
    return (
        f"{where} has schema version {current}, but this DevFactory knows only up to "
        f"{latest}. Upgrade DevFactory (pip install -U devfactory-server) or point it at "
        "another database; the database was not changed."
    )
