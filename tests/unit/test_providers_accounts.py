"""Account rotation over the real ``provider_accounts`` table, retry-after parsing, and the
redaction that keeps keys out of messages and logs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from devfactory.server.agents.providers.accounts import DEFAULT_REST_S, Account, AccountPool
from devfactory.server.agents.providers.base import AllAccountsExhausted, RateLimited
from devfactory.server.agents.providers.redaction import redact, register_secret
from devfactory.server.agents.providers.sdk import retry_after_seconds
from devfactory.storage import Store

pytest_plugins = ["fakes.fixtures"]

ENV = {"KEY_ONE": "sk-one-1111111111", "KEY_TWO": "sk-two-2222222222"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def pool(store: Store, clock: Clock, env_vars: list[str] | None = None) -> AccountPool:
    return AccountPool(
        "openai",
        list(ENV) if env_vars is None else env_vars,
        store.provider_accounts,
        environ=ENV,
        clock=clock,
    )


def answer_with(
    rate_limited: dict[str, float | None],
) -> tuple[list[str], Callable[[Account], Awaitable[str]]]:
    """An attempt that is rate limited for the listed variables; records who was asked."""
    asked: list[str] = []

    async def attempt(account: Account) -> str:
        asked.append(account.label)
        if account.label in rate_limited:
            raise RateLimited("429", rate_limited[account.label])
        return account.label

    return asked, attempt


async def test_a_rested_account_comes_back(accounts_store: Store) -> None:
    clock = Clock()
    accounts = pool(accounts_store, clock, ["KEY_ONE"])
    asked, limited = answer_with({"KEY_ONE": 10})
    with pytest.raises(AllAccountsExhausted) as caught:
        await accounts.run(limited)
    assert caught.value.retry_after == 10
    clock.now += timedelta(seconds=9)
    with pytest.raises(AllAccountsExhausted) as caught:
        await accounts.run(limited)
    assert caught.value.retry_after == 1
    clock.now += timedelta(seconds=1, milliseconds=1)
    _, fine = answer_with({})
    assert await accounts.run(fine) == "KEY_ONE"
    assert asked == ["KEY_ONE"]


async def test_rests_are_shared_by_every_pool_of_the_provider(accounts_store: Store) -> None:
    """Two runs hold two pools; a 429 seen by one is respected by the other."""
    clock = Clock()
    _, limited = answer_with({"KEY_ONE": None})
    assert await pool(accounts_store, clock).run(limited) == "KEY_TWO"
    asked, fine = answer_with({})
    assert await pool(accounts_store, clock).run(fine) == "KEY_TWO"
    clock.now += timedelta(seconds=DEFAULT_REST_S + 1)
    assert await pool(accounts_store, clock).run(fine) == "KEY_ONE"
    assert asked == ["KEY_TWO", "KEY_ONE"]


async def test_only_configured_accounts_with_a_key_are_used(accounts_store: Store) -> None:
    clock = Clock()
    await pool(accounts_store, clock, ["KEY_ONE"]).run(answer_with({})[1])
    asked, fine = answer_with({})
    # KEY_ONE is registered from before but no longer configured; UNSET has no value.
    accounts = pool(accounts_store, clock, ["UNSET", "KEY_TWO"])
    for _ in range(2):
        await accounts.run(fine)
    assert asked == ["KEY_TWO", "KEY_TWO"]
    rows = await accounts_store.provider_accounts.list("openai")
    assert sorted((row.name, row.api_key_env) for row in rows) == [
        ("KEY_ONE", "KEY_ONE"),
        ("KEY_TWO", "KEY_TWO"),
    ]


async def test_account_repr_never_holds_the_key(accounts_store: Store) -> None:
    seen: list[Account] = []

    async def attempt(account: Account) -> None:
        seen.append(account)

    await pool(accounts_store, Clock(), ["KEY_ONE"]).run(attempt)
    assert ENV["KEY_ONE"] not in repr(seen[0]) and seen[0].key == ENV["KEY_ONE"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    seconds = retry_after_seconds({"retry-after": later})
    assert seconds is not None and 100 < seconds <= 120


def test_redaction_replaces_the_longest_key_first_and_skips_short_values() -> None:
    register_secret("sk-redact-test-abcdef", "SHORT_NAME")
    register_secret("sk-redact-test-abcdef-extended", "LONG_NAME")
    register_secret("abc", "TOO_SHORT")
    assert redact("a sk-redact-test-abcdef-extended b sk-redact-test-abcdef c abc") == (
        "a [redacted $LONG_NAME] b [redacted $SHORT_NAME] c abc"
    )


def test_log_lines_and_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-traceback-test-0123456789"
    register_secret(secret, "TRACE_KEY")
    logger = logging.getLogger("devfactory.test")
    with caplog.at_level(logging.INFO):
        logger.info("calling with %s", secret)
        try:
            raise RuntimeError(f"server said: bad key {secret}")
        except RuntimeError:
            logger.exception("call failed")
    assert secret not in caplog.text
    assert "calling with [redacted $TRACE_KEY]" in caplog.text
    assert "RuntimeError: server said: bad key [redacted $TRACE_KEY]" in caplog.text
