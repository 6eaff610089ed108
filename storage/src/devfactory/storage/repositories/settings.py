"""The ``settings`` table: small key/value state the daemon keeps between starts."""

from __future__ import annotations

from typing import Any

from ..clock import now_iso
from ..codec import dump, load
from ..database import Database


class SettingsRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str, default: Any = None) -> Any:
        value = await self.db.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return default if value is None else load(value, Any)

    async def set(self, key: str, value: Any) -> None:
        await self.db.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?,?,?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (key, dump(value), now_iso()),
        )
