"""Opening a store: the one place that picks an adapter for a database location.

A location is a file path (or ``:memory:``) or a URL: ``sqlite:///path`` names a SQLite file
too, ``postgresql://`` (or ``postgres://``) a PostgreSQL database shared by a team. The
adapter is imported only when a store is opened, so importing the ports (the CLI, the
protocol tools) stays light and loads no database driver.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import DatabaseError
from .ports.index import IndexWriter
from .ports.store import Store

SUPPORTED = "a file path, a sqlite:///path URL or a postgresql://user@host/database URL"
POSTGRESQL_SCHEMES = ("postgresql", "postgres")


def is_postgresql(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database."""
    return urlsplit(str(location)).scheme in POSTGRESQL_SCHEMES and "://" in str(location)


def shown_location(location: str | Path) -> str:
    """``location`` as shown to people and logs: a URL's password hidden."""
    text = str(location)
    parts = urlsplit(text)
    if "://" not in text or parts.password is None:
        return text
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def sqlite_path(location: str | Path) -> str:
    """The SQLite file ``location`` names; DatabaseError for anything else."""
    text = str(location)
    if "://" not in text:
        return text
    url = urlsplit(text)
    if url.scheme != "sqlite" or url.netloc:
        raise DatabaseError(f"cannot open the database {text!r}: give {SUPPORTED}")
    return unquote(url.path)


def database_files(location: str | Path) -> list[Path]:
    """The files a SQLite store at ``location`` keeps its data in (the database, its WAL,
    shared memory and rollback journal); none for PostgreSQL or ``:memory:``."""
    if is_postgresql(location):
        return []
    path = sqlite_path(location)
    if path == ":memory:":
        return []
    return [Path(path + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def _postgresql() -> object:
    try:
        from . import postgresql
    except ImportError as exc:
        raise DatabaseError(
            f"PostgreSQL storage needs psycopg ({exc}): "
            "pip install 'devfactory-storage[postgresql]'"
        ) from None
    return postgresql


async def open_store(location: str | Path) -> Store:
    """Open (creating and migrating as needed) the store at ``location``."""
    if is_postgresql(location):
        _postgresql()
        from .postgresql import PostgresStore

        return await PostgresStore.open(str(location))
    path = sqlite_path(location)
    from .sqlite import SqliteStore

    return await SqliteStore.open(path)


def open_index_writer(location: str, project_id: int) -> IndexWriter:
    """A synchronous index writer with a connection of its own, for a worker process;
    ``location`` is the daemon's ``Store.location``."""
    if is_postgresql(location):
        _postgresql()
        from .postgresql import PostgresIndexWriter

        return PostgresIndexWriter(location, project_id)
    path = sqlite_path(location)
    from .sqlite import SqliteIndexWriter

    return SqliteIndexWriter(path, project_id)
