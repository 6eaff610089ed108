"""Ports of team mode's access records: API tokens, the audit of what they were used for, and
provider keys stored for the team (encrypted before they reach a repository)."""

from __future__ import annotations

import builtins
from typing import Protocol

from msgspec import Struct


class ApiToken(Struct, frozen=True):
    """An API token as stored: its hash and a short public prefix, never the token itself."""

    id: int
    project_id: int | None
    """The project whose gateway accepts it; None for a token made before tokens were bound
    to a project (no gateway accepts it: re-create it)."""
    name: str
    """Who or what holds it (``ci``, ``alice's laptop``), unique among the project's live
    tokens."""
    hint: str
    """The token's first characters (``dft_AbCd``), to recognise it in a list."""
    abilities: builtins.list[str]
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class AuditEntry(Struct, frozen=True):
    """One request checked against a token's abilities."""

    id: int
    token_id: int | None
    """None when no valid token was presented."""
    token_name: str
    method: str
    ability: str
    """The ability the method needs (``read`` for read-only methods)."""
    allowed: bool
    reason: str
    """Why it was refused (empty when allowed)."""
    created_at: str


class TeamKey(Struct, frozen=True):
    """A provider key stored for the team: only its ciphertext."""

    provider: str
    ciphertext: bytes
    updated_at: str


class ApiTokenRepository(Protocol):
    """API tokens of projects, looked up by the SHA-256 of the whole token."""

    async def create(
        self, project_id: int, name: str, hint: str, digest: str, abilities: list[str]
    ) -> ApiToken:
        """Store a new token of the project (``digest``: hex SHA-256). A live token of that
        name already in the project is ``AlreadyExists``."""
        ...

    async def by_digest(self, digest: str) -> tuple[ApiToken, str] | None:
        """The token whose digest is ``digest`` and the stored digest (for a constant-time
        comparison), revoked or not; None when there is none."""
        ...

    async def list(self, project_id: int) -> builtins.list[ApiToken]:
        """The project's tokens, revoked ones too, and those bound to no project (made before
        tokens were), oldest first."""
        ...

    async def revoke(self, project_id: int, name: str) -> bool:
        """Revoke the live token called ``name`` of the project (or of no project); whether
        there was one."""
        ...

    async def mark_used(self, token_id: int) -> None: ...


class AuditRepository(Protocol):
    """Append-only record of ability checks."""

    async def record(
        self,
        *,
        token_id: int | None,
        token_name: str,
        method: str,
        ability: str,
        allowed: bool,
        reason: str = "",
    ) -> None: ...

    async def list(self, limit: int = 100) -> builtins.list[AuditEntry]:
        """The last ``limit`` entries, newest first."""
        ...


class TeamKeyRepository(Protocol):
    """Provider keys stored for the team, as ciphertext."""

    async def put(self, provider: str, ciphertext: bytes) -> None:
        """Store (or replace) the key of ``provider``."""
        ...

    async def get(self, provider: str) -> TeamKey | None: ...

    async def list(self) -> builtins.list[TeamKey]: ...

    async def delete(self, provider: str) -> bool: ...
