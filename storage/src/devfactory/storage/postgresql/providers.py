"""The ``provider_accounts`` table: API accounts per provider, rotated round-robin.

Only the *name* of the environment variable holding a key is stored, never the key.
"""

from __future__ import annotations

import builtins

from ..clock import now_iso
from ..ports.rows import ProviderAccount
from .database import Database


class PostgresProviderAccountRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ensure(
        self, provider: str, name: str, api_key_env: str | None, base_url: str | None
    ) -> None:
        await self.db.execute(
            "INSERT INTO provider_accounts (provider, name, api_key_env, base_url, created_at)"
            " VALUES (%s,%s,%s,%s,%s) ON CONFLICT (provider, name) DO UPDATE SET"
            " api_key_env = excluded.api_key_env, base_url = excluded.base_url",
            (provider, name, api_key_env, base_url, now_iso()),
        )

    async def list(self, provider: str) -> builtins.list[ProviderAccount]:
        rows = await self.db.fetchall(
            "SELECT id, provider, name, api_key_env, base_url, exhausted_until, last_used_at"
            " FROM provider_accounts WHERE provider = %s"
            " ORDER BY coalesce(last_used_at, ''), id",
            (provider,),
        )
        return [ProviderAccount(**row) for row in rows]

    async def mark_used(self, account_id: int) -> None:
        await self.db.execute(
            "UPDATE provider_accounts SET last_used_at = %s WHERE id = %s", (now_iso(), account_id)
        )

    async def mark_exhausted(self, account_id: int, until: str) -> None:
        await self.db.execute(
            "UPDATE provider_accounts SET exhausted_until = %s WHERE id = %s", (until, account_id)
        )
