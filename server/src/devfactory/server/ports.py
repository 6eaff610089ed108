"""The small callables services receive instead of the LSP server (STYLE 21).

A service that needs to tell the client something gets ``Notify``; one that starts background
work gets ``Spawn``. Neither sees the server, its other features or their services.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

import msgspec

T = TypeVar("T")

Notify = Callable[[str, msgspec.Struct], None]
"""Send a ``devfactory/*`` notification (method, params) to the client."""


class Spawn(Protocol):
    """Start a background task that is kept alive and whose failure is logged."""

    def __call__(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]: ...
