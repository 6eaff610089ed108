"""DevFactory persistence: storage ports (``devfactory.storage.ports``) and the adapters behind
them: SQLite (``devfactory.storage.sqlite``, WAL, numbered migrations, FTS5, sqlite-vec), the
default, and PostgreSQL (``devfactory.storage.postgresql``, psycopg 3, an optional extra).

Depends on ``devfactory.protocol`` only; repositories return its Structs. The server opens a
store with :func:`open_store` and uses it through the ports.
"""

from __future__ import annotations

from .errors import DatabaseError, LeaseLost, SchemaTooNewError, StorageFull
from .factory import database_files, open_index_writer, open_store, shown_location
from .ports import Store

__all__ = [
    "DatabaseError",
    "LeaseLost",
    "SchemaTooNewError",
    "StorageFull",
    "Store",
    "database_files",
    "open_index_writer",
    "open_store",
    "shown_location",
]
