"""DevFactory persistence: async SQLite (WAL, numbered migrations, FTS5, sqlite-vec).

Depends on ``devfactory.protocol`` only; repositories return its Structs.
"""

from __future__ import annotations

from .database import Database
from .errors import DatabaseError, SchemaTooNewError, StorageFull
from .store import Store

__all__ = ["Database", "DatabaseError", "SchemaTooNewError", "StorageFull", "Store"]
