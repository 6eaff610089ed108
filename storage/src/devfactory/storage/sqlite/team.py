"""Team mode's tables on SQLite: ``api_tokens``, ``audit_log`` and ``team_keys``."""

from __future__ import annotations

import builtins
from typing import Any

import sqlean

from ..clock import now_iso
from ..codec import dump, load, row_to
from ..errors import AlreadyExists
from ..ports.access import ApiToken, AuditEntry, TeamKey
from .database import Database

_TOKEN = (
    "SELECT id, project_id, name, hint, abilities, created_at, last_used_at, revoked_at"
    " FROM api_tokens"
)


def _token(row: Any) -> ApiToken:
    return row_to(ApiToken, row, abilities=load(row["abilities"], list[str]))


class SqliteApiTokenRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, project_id: int, name: str, hint: str, digest: str, abilities: list[str]
    ) -> ApiToken:
        try:
            token_id = await self.db.execute(
                "INSERT INTO api_tokens (project_id, name, hint, digest, abilities, created_at)"
                " VALUES (?,?,?,?,?,?)",
                (project_id, name, hint, digest, dump(abilities), now_iso()),
            )
        except sqlean.IntegrityError:
            raise AlreadyExists(
                f"a live token of this project is already called {name!r}"
            ) from None
        row = await self.db.fetchone(f"{_TOKEN} WHERE id = ?", (token_id,))
        return _token(row)

    async def by_digest(self, digest: str) -> tuple[ApiToken, str] | None:
        row = await self.db.fetchone(
            f"{_TOKEN.replace(' FROM', ', digest FROM')} WHERE digest = ?", (digest,)
        )
        return None if row is None else (_token(row), row["digest"])

    async def list(self, project_id: int) -> builtins.list[ApiToken]:
        rows = await self.db.fetchall(
            f"{_TOKEN} WHERE project_id = ? OR project_id IS NULL ORDER BY id", (project_id,)
        )
        return [_token(row) for row in rows]

    async def revoke(self, project_id: int, name: str) -> bool:
        changed = await self.db.update(
            "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL"
            " AND (project_id = ? OR project_id IS NULL)",
            (now_iso(), name, project_id),
        )
        return changed > 0

    async def mark_used(self, token_id: int) -> None:
        await self.db.execute(
            "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now_iso(), token_id)
        )


class SqliteAuditRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        *,
        token_id: int | None,
        token_name: str,
        method: str,
        ability: str,
        allowed: bool,
        reason: str = "",
    ) -> None:
        await self.db.execute(
            "INSERT INTO audit_log (token_id, token_name, method, ability, allowed, reason,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            (token_id, token_name, method, ability, int(allowed), reason, now_iso()),
        )

    async def list(self, limit: int = 100) -> builtins.list[AuditEntry]:
        rows = await self.db.fetchall(
            "SELECT id, token_id, token_name, method, ability, allowed, reason, created_at"
            " FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [row_to(AuditEntry, row) for row in rows]


class SqliteTeamKeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, provider: str, ciphertext: bytes) -> None:
        await self.db.execute(
            "INSERT INTO team_keys (provider, ciphertext, updated_at) VALUES (?,?,?)"
            " ON CONFLICT (provider) DO UPDATE SET ciphertext = excluded.ciphertext,"
            " updated_at = excluded.updated_at",
            (provider, ciphertext, now_iso()),
        )

    async def get(self, provider: str) -> TeamKey | None:
        row = await self.db.fetchone(
            "SELECT provider, ciphertext, updated_at FROM team_keys WHERE provider = ?",
            (provider,),
        )
        return None if row is None else row_to(TeamKey, row)

    async def list(self) -> builtins.list[TeamKey]:
        rows = await self.db.fetchall(
            "SELECT provider, ciphertext, updated_at FROM team_keys ORDER BY provider"
        )
        return [row_to(TeamKey, row) for row in rows]

    async def delete(self, provider: str) -> bool:
        return await self.db.update("DELETE FROM team_keys WHERE provider = ?", (provider,)) > 0
