"""Typed registration of ``devfactory/*`` request handlers.

A handler is ``async def handler(params: SomeParams) -> SomeResult``; the method's types come
from the protocol registry. Params are validated with msgspec, so a bad request gets
InvalidParams naming the field, and the result Struct is serialised by our converter. Values
JSON allows but nothing downstream can hold (integers beyond 64 bits for SQLite, NUL for paths
and C strings, nesting deep enough to exhaust a recursive encoder) are refused here, once, for
every method.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from pygls.lsp.server import LanguageServer

from devfactory.protocol.methods import REQUESTS
from devfactory.storage import DatabaseError
from devfactory.storage.errors import full_disk

from . import services
from .errors import InvalidParams, Unavailable
from .team.scope import BRIDGED

if TYPE_CHECKING:
    from .team.bridge import GatewayBridge

P = TypeVar("P")
R = TypeVar("R")
Handler = Callable[[P], Awaitable[R]]

#: Methods that raise on purpose, for tests that prove a failing handler does not take the
#: daemon down (comma-separated method names).
_INJECTED_FAULTS = frozenset(filter(None, os.environ.get("DEVFACTORY_INJECT_FAULT", "").split(",")))


INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""The integers SQLite (and every id, count and limit) can hold."""

log = logging.getLogger(__name__)

SLOW_REQUEST_S = 1.0
"""A request answered later than this is logged with its time: the log then says what kept an
editor waiting (a test that failed on a late answer prints the log)."""
MAX_NESTING = 32
"""Free-form values (metadata, handoff content) nest this deep at most: far beyond any real
document, far below the recursion limit of the encoders and validators they pass through."""


def refuse_unstorable(raw: Any) -> str | None:
    """Why ``raw`` holds a value no handler can store (with its path), or None."""
    stack: list[tuple[Any, str, int]] = [(raw, "$", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_NESTING:
            return f"values must not nest deeper than {MAX_NESTING} levels - at `{path}`"
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            return f"integer out of range (it must fit in 64 bits) - at `{path}`"
        if isinstance(value, str) and "\0" in value:
            return f"a string must not contain NUL characters - at `{path}`"
        if isinstance(value, dict):
            for key, item in value.items():
                if "\0" in key:
                    return f"a field name must not contain NUL characters - at `{path}`"
                stack.append((item, f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    return None


def decode_params(method: str, params_type: type[P], raw: Any) -> P:
    """Validate raw JSON params against ``params_type``; raise InvalidParams naming the field."""
    if (problem := refuse_unstorable(raw)) is not None:
        raise InvalidParams(f"invalid params for {method}: {problem}")
    try:
        return msgspec.convert({} if raw is None else raw, params_type)
    except msgspec.ValidationError as exc:
        text = str(exc)
        hint = ""
        if "unknown field" in text:
            accepted = ", ".join(getattr(params_type, "__struct_encode_fields__", ()))
            hint = f"; accepted fields: {accepted or '(none)'}"
        text = out_of_range(params_type, raw, text) or text
        raise InvalidParams(f"invalid params for {method}: {text}{hint}") from None


_BOUND = re.compile(r"Expected `int` [<>]=? \S+ - at `\$\.(\w+)`")


def out_of_range(params_type: type[Any], raw: Any, error: str) -> str | None:
    """msgspec's "Expected `int` >= 1 - at `$.limit`" as "limit must be between 1 and 200,
    got 0": the whole range the field's ``Meta`` allows, and the value sent."""
    import msgspec.inspect

    match = _BOUND.fullmatch(error)
    if match is None or not isinstance(raw, dict):
        return None
    name = match.group(1)
    info = msgspec.inspect.type_info(params_type)
    assert isinstance(info, msgspec.inspect.StructType)
    field = next(f for f in info.fields if f.encode_name == name)
    choices = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else ()
    bound = next(t for t in (field.type, *choices) if isinstance(t, msgspec.inspect.IntType))
    got = raw.get(name)
    if bound.ge is not None and bound.le is not None:
        return f"{name} must be between {bound.ge} and {bound.le}, got {got}"
    if bound.ge is not None:
        return f"{name} must be {bound.ge} or more, got {got}"
    return f"{name} must be {bound.le} or less, got {got}"


async def _bridge(server: LanguageServer) -> GatewayBridge | None:
    """The bridge to the team's gateway, when this daemon has one configured."""
    from .app import DevFactoryServer

    if not isinstance(server, DevFactoryServer):
        return None
    bridge = await server.find(services.GatewayBridge)
    return bridge if bridge is not None and bridge.enabled else None


def request(
    server: LanguageServer, method: str
) -> Callable[[Handler[Any, Any]], Handler[Any, Any]]:
    """Register ``fn`` as the handler of the ``devfactory/*`` request ``method``."""
    spec = REQUESTS[method]

    def decorator(fn: Handler[Any, Any]) -> Handler[Any, Any]:
        @functools.wraps(fn)
        async def handler(raw: Any) -> Any:
            params = decode_params(method, spec.params, raw)
            if method in BRIDGED and (bridge := await _bridge(server)) is not None:
                return await bridge.forward(method, raw)
            if method in _INJECTED_FAULTS:
                raise RuntimeError(f"fault injected into {method} (DEVFACTORY_INJECT_FAULT)")
            started = time.perf_counter()
            try:
                return await fn(params)
            except (DatabaseError, OSError) as exc:
                if (full := full_disk(exc)) is None:
                    raise
                raise Unavailable(str(full)) from None  # the user can fix it: say how
            finally:
                if (took := time.perf_counter() - started) > SLOW_REQUEST_S:
                    log.info("%s answered in %.1f s", method, took)

        server.feature(method)(handler)
        return fn

    return decorator
