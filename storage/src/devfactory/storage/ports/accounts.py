"""Port of the provider accounts: API accounts per provider, rested after a 429."""

from __future__ import annotations

import builtins
from typing import Protocol

from .rows import ProviderAccount


class ProviderAccountRepository(Protocol):
    """API accounts per provider, used round-robin; only the key's variable name is kept."""

    async def ensure(
        self, provider: str, name: str, api_key_env: str | None, base_url: str | None
    ) -> None:
        """Register an account, or refresh its variable and URL (idempotent)."""
        ...

    async def list(self, provider: str) -> builtins.list[ProviderAccount]:
        """Accounts of ``provider``, least recently used first (round-robin order)."""
        ...

    async def mark_used(self, account_id: int) -> None: ...

    async def mark_exhausted(self, account_id: int, until: str) -> None:
        """Rest the account until ``until`` (an ISO timestamp)."""
        ...
