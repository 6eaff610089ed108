"""Opening a store: the one place that picks an adapter for a database location.

A location is a file path (or ``:memory:``) or a URL; ``sqlite:///path`` names a SQLite
file too. The adapter is imported only when a store is opened, so importing the ports (the
CLI, the protocol tools) stays light.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import DatabaseError
from .ports.index import IndexWriter
from .ports.store import Store

SUPPORTED = "a file path or a sqlite:///path URL"


def sqlite_path(location: str | Path) -> str:
    """The SQLite file ``location`` names; DatabaseError for anything else."""
    text = str(location)
    if "://" not in text:
        return text
    url = urlsplit(text)
    if url.scheme != "sqlite" or url.netloc:
        raise DatabaseError(
            f"cannot open the database {text!r}: DevFactory stores its data in SQLite, "
            f"so give {SUPPORTED}"
        )
    return unquote(url.path)


async def open_store(location: str | Path) -> Store:
    """Open (creating and migrating as needed) the store at ``location``."""
    path = sqlite_path(location)
    from .sqlite import SqliteStore

    return await SqliteStore.open(path)


def open_index_writer(location: str, project_id: int) -> IndexWriter:
    """A synchronous index writer with a connection of its own, for a worker process;
    ``location`` is the daemon's ``Store.location``."""
    path = sqlite_path(location)
    from .sqlite import SqliteIndexWriter

    return SqliteIndexWriter(path, project_id)
