"""Typed registration of ``devfactory/*`` request handlers.

A handler is ``async def handler(params: SomeParams) -> SomeResult``; the method's types come
from the protocol registry. Params are validated with msgspec, so a bad request gets
InvalidParams naming the field, and the result Struct is serialised by our converter.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from devfactory.protocol.methods import REQUESTS
from devfactory.storage import DatabaseError
from devfactory.storage.errors import full_disk

from .errors import InvalidParams, Unavailable

if TYPE_CHECKING:
    from .app import DevFactoryServer

P = TypeVar("P")
R = TypeVar("R")
Handler = Callable[[P], Awaitable[R]]

#: Methods that raise on purpose, for tests that prove a failing handler does not take the
#: daemon down (comma-separated method names).
_INJECTED_FAULTS = frozenset(filter(None, os.environ.get("DEVFACTORY_INJECT_FAULT", "").split(",")))


def decode_params(method: str, params_type: type[P], raw: Any) -> P:
    """Validate raw JSON params against ``params_type``; raise InvalidParams naming the field."""
    try:
        return msgspec.convert({} if raw is None else raw, params_type)
    except msgspec.ValidationError as exc:
        text = str(exc)
        hint = ""
        if "unknown field" in text:
            accepted = ", ".join(getattr(params_type, "__struct_encode_fields__", ()))
            hint = f"; accepted fields: {accepted or '(none)'}"
        raise InvalidParams(f"invalid params for {method}: {text}{hint}") from None


def request(
    server: DevFactoryServer, method: str
) -> Callable[[Handler[Any, Any]], Handler[Any, Any]]:
    """Register ``fn`` as the handler of the ``devfactory/*`` request ``method``."""
    spec = REQUESTS[method]

    def decorator(fn: Handler[Any, Any]) -> Handler[Any, Any]:
        @functools.wraps(fn)
        async def handler(raw: Any) -> Any:
            params = decode_params(method, spec.params, raw)
            if method in _INJECTED_FAULTS:
                raise RuntimeError(f"fault injected into {method} (DEVFACTORY_INJECT_FAULT)")
            try:
                return await fn(params)
            except (DatabaseError, OSError) as exc:
                if (full := full_disk(exc)) is None:
                    raise
                raise Unavailable(str(full)) from None  # the user can fix it: say how

        server.feature(method)(handler)
        return fn

    return decorator
