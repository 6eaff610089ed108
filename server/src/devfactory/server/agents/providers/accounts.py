"""Several API accounts per provider, used round-robin, resting after a 429.

A provider's accounts are the environment variables listed in ``providers.<name>.apiKeyEnv``.
They are registered in the ``provider_accounts`` table by variable *name* (the key itself is
only ever held in memory), so rest periods and the round-robin position are shared by every
run of the daemon and survive a restart. A ``RateLimited`` answer rests that account until
its retry-after and the same request goes to the next account; when every account rests,
``AllAccountsExhausted`` tells the run controller how long to pause.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from devfactory.storage.ports import ProviderAccount, ProviderAccountRepository

from .base import AllAccountsExhausted, ProviderUnavailable, RateLimited
from .redaction import register_secret

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_REST_S = 60.0
"""How long an account rests after a 429 that did not say (OpenAI and Anthropic usually do)."""

KEYLESS = "(no key)"
"""The account name of a provider that needs no key (a local OpenAI-compatible server)."""

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Account:
    """One usable account: its row id, the variable its key came from, and the key."""

    id: int
    env_var: str | None
    key: str | None = field(repr=False)

    @property
    def label(self) -> str:
        """How messages name the account: the variable, never the key."""
        return self.env_var or KEYLESS


class AccountPool:
    """The accounts of one provider and the round-robin over them."""

    def __init__(
        self,
        provider: str,
        env_vars: list[str],
        repository: ProviderAccountRepository,
        *,
        base_url: str | None = None,
        keyless: bool = False,
        environ: Mapping[str, str] = os.environ,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        """Reads the keys now, so a missing one is reported when the provider is chosen.

        ``keyless`` allows running without any key (local servers, CLIs with their own login).
        """
        self.provider = provider
        self._repository = repository
        self._base_url = base_url
        self._clock = clock
        self._keys: dict[str | None, str | None] = {}
        for var in env_vars:
            if key := environ.get(var, "").strip():
                register_secret(key, var)
                self._keys[var] = key
        if not self._keys:
            if not keyless:
                raise ProviderUnavailable(_missing_key_message(provider, env_vars))
            self._keys[None] = None
        self._registered = False

    @property
    def labels(self) -> list[str]:
        return [var or KEYLESS for var in self._keys]

    async def run(self, attempt: Callable[[Account], Awaitable[T]]) -> T:
        """``attempt`` with the next rested account; on RateLimited, rest it and try the next."""
        tried: set[int] = set()
        while True:
            account = await self._next(tried)
            try:
                return await attempt(account)
            except RateLimited as exc:
                rest = DEFAULT_REST_S if exc.retry_after is None else exc.retry_after
                until = self._clock() + timedelta(seconds=rest)
                await self._repository.mark_exhausted(account.id, _iso(until))
                tried.add(account.id)
                log.warning(
                    "%s: account %s is rate limited for %.0f s; trying the next one",
                    self.provider,
                    account.label,
                    rest,
                )

    async def _accounts(self) -> list[ProviderAccount]:
        if not self._registered:
            for var in self._keys:
                await self._repository.ensure(self.provider, var or KEYLESS, var, self._base_url)
            self._registered = True
        names = set(self.labels)
        return [row for row in await self._repository.list(self.provider) if row.name in names]

    async def _next(self, tried: set[int]) -> Account:
        accounts = await self._accounts()
        now = self._clock()
        ready = [row for row in accounts if row.id not in tried and _rest_end(row, now) is None]
        if not ready:
            raise self._exhausted(accounts, now)
        chosen = ready[0]  # the least recently used: the repository lists in that order
        await self._repository.mark_used(chosen.id)
        return Account(chosen.id, chosen.api_key_env, self._keys[chosen.api_key_env])

    def _exhausted(self, accounts: list[ProviderAccount], now: datetime) -> AllAccountsExhausted:
        ends = [end for row in accounts if (end := _rest_end(row, now)) is not None]
        retry_after = max((min(ends) - now).total_seconds(), 0.0) if ends else 0.0
        return AllAccountsExhausted(
            f"{self.provider}: all accounts are resting after 429s ({', '.join(self.labels)}); "
            f"the first is available again in {retry_after:.0f} s",
            retry_after,
        )


def _rest_end(row: ProviderAccount, now: datetime) -> datetime | None:
    """When the account's rest ends, or None if it is usable now."""
    if not row.exhausted_until:
        return None
    end = datetime.fromisoformat(row.exhausted_until)
    return end if end > now else None


def _iso(moment: datetime) -> str:
    """The storage's timestamp format (``storage.clock.now_iso``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _missing_key_message(provider: str, env_vars: list[str]) -> str:
    setting = f"providers.{provider}.apiKeyEnv"
    if not env_vars:
        return f"{provider}: no API key configured; list the variables holding keys in {setting}"
    names = " or ".join(env_vars)
    return (
        f"{provider}: no API key: set {names} in the daemon's environment "
        f"(or list other variables in {setting})"
    )
