"""Who asked: a client of the team gateway (a token holder, perhaps on another machine) or the
local user, and what only the local user may do.

The gateway marks each request it dispatches with the caller's token name, in a context
variable: the handler, whatever it awaits and the tasks it starts see it. Two choke points
ask :func:`refusal`: choosing a new run's or initiative's provider
(``runs.lookup.configured_provider``, which retries and factory tasks go through too, and
which resolves the default provider) and building a provider (``create_provider``: chats and
anything else built while a request is served).

The ``scripted`` provider is the local user's alone: its model argument is a file path that
the daemon reads and plays as the model, so through the gateway a token holder could read
the gateway machine's files (their existence, their keys in the error) and choose every tool
call of the run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

LOCAL_ONLY_PROVIDERS = frozenset({"scripted"})
"""Providers a remote caller may not use, even when the workspace configures them."""

ALLOW_REMOTE_SCRIPTED = "DEVFACTORY_GATEWAY_ALLOWS_SCRIPTED"
"""Set to ``1`` in a gateway's environment, lets its clients use the ``scripted`` provider:
for DevFactory's own end-to-end tests of the gateway, which have no other offline model.
Never set it on a gateway anyone else can reach."""

_remote_caller: ContextVar[str | None] = ContextVar("devfactory_remote_caller", default=None)


@contextlib.contextmanager
def remote_caller(name: str) -> Iterator[None]:
    """Mark what runs in the block as asked by the gateway's client ``name`` (its token)."""
    mark = _remote_caller.set(name)
    try:
        yield
    finally:
        _remote_caller.reset(mark)


def current() -> str | None:
    """The token name of the gateway client that asked, or None when the local user did."""
    return _remote_caller.get()


def refusal(provider: str) -> str | None:
    """Why the caller may not use ``provider`` (None: it may)."""
    caller = _remote_caller.get()
    if caller is None or provider not in LOCAL_ONLY_PROVIDERS:
        return None
    if os.environ.get(ALLOW_REMOTE_SCRIPTED) == "1":
        return None
    return (
        f"provider {provider!r} is refused through the gateway (token {caller!r}): it plays a "
        "script file of the gateway's machine, so only a local user may use it; name another "
        "provider"
    )
