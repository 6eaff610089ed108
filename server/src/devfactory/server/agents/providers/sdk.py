"""Plumbing shared by the HTTP providers (``openai``, ``anthropic``).

Both SDKs are generated from the same template, so they share one exception hierarchy
(``APIStatusError`` with ``status_code``/``response``/``body``, ``APIConnectionError``,
``APITimeoutError``) and one error mapping serves both. The SDKs are imported on first use,
in a worker thread: ``import anthropic`` alone takes most of a second and the daemon's event
loop must keep answering the editor meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import math
import sys
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from time import time
from types import ModuleType
from typing import Any

from .base import ProviderError, ProviderUnavailable, RateLimited
from .redaction import redact

MALFORMED_ARGUMENTS_KEY = "_malformed_arguments"
"""A tool call whose arguments are not a JSON object carries the raw text under this key, so
the agent loop can tell the model its call was malformed instead of the run failing (small
local models get JSON wrong now and then)."""

_OVERLOADED_STATUSES = {429, 503, 529}
_OVERLOADED_ERROR_TYPES = {"rate_limit_error", "overloaded_error", "rate_limit_exceeded"}


async def import_sdk(module: str, provider: str) -> ModuleType:
    """Import an SDK off the event loop; a missing package is a clear ProviderUnavailable."""
    if (loaded := sys.modules.get(module)) is not None:
        return loaded
    try:
        return await asyncio.to_thread(importlib.import_module, module)
    except ImportError:
        raise ProviderUnavailable(
            f"{provider}: the `{module}` Python package is not installed; install it into the "
            "daemon's environment (it ships with devfactory-server)"
        ) from None


def parse_tool_arguments(raw: str) -> dict[str, Any]:
    """The JSON object a model streamed as tool arguments (empty means no arguments)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {MALFORMED_ARGUMENTS_KEY: raw}
    return value if isinstance(value, dict) else {MALFORMED_ARGUMENTS_KEY: raw}


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The rest a 429 asks for: ``retry-after-ms``, ``retry-after`` in seconds or as a date."""
    if (value := headers.get("retry-after-ms")) is not None:
        try:
            return _finite(float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _finite(float(value))
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time(), 0.0)
    except (TypeError, ValueError):
        return None


def _finite(seconds: float) -> float | None:
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _detail(exc: Any) -> str:
    """The server's own error message, without the SDK's ``Error code: ...`` wrapping."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
    return str(getattr(exc, "message", None) or exc)


def _error_type(exc: Any) -> str | None:
    """The API's error type: the body is ``{"error": {...}}``, or its inner part mid-stream."""
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        kind = error.get("type") or error.get("code")
        return str(kind) if kind else None
    return None


def to_provider_error(
    exc: Exception, sdk: ModuleType, *, provider: str, account: str, endpoint: str
) -> ProviderError:
    """Our typed error for an SDK exception; the message names what to fix and holds no key.

    ``account`` names the variable the key came from; ``endpoint`` is the base URL used.
    """
    setting = f"providers.{provider}"
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderError(
            redact(f"{provider}: {endpoint} did not answer in time ({setting}.timeoutS)")
        )
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        reason = f": {cause}" if cause else ""
        return ProviderUnavailable(
            redact(f"{provider}: cannot connect to {endpoint}{reason}; check {setting}.baseUrl")
        )
    status = getattr(exc, "status_code", None)
    detail = _detail(exc)
    # Overloaded also arrives mid-stream, as an error event after a 200.
    if status in _OVERLOADED_STATUSES or _error_type(exc) in _OVERLOADED_ERROR_TYPES:
        response = getattr(exc, "response", None)
        when = f"HTTP {status}" if status and status >= 400 else "during the stream"
        return RateLimited(
            redact(f"{provider}: the account in {account} is rate limited ({when}): {detail}"),
            None if response is None else retry_after_seconds(response.headers),
        )
    if not isinstance(exc, sdk.APIStatusError):
        return ProviderError(redact(f"{provider}: {type(exc).__name__}: {detail}"))
    if status in (401, 403):
        return ProviderError(
            redact(
                f"{provider}: the API key in {account} was refused ({status}: {detail}); "
                f"set a valid key in {account}"
            )
        )
    if status == 404:
        return ProviderError(
            redact(
                f"{provider}: {endpoint} answered 404 ({detail}); check {setting}.model "
                f"and {setting}.baseUrl"
            )
        )
    return ProviderError(redact(f"{provider}: the API answered {status}: {detail}"))
