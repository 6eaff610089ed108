"""Explicit wiring: each feature declares what it needs by type; the daemon resolves the order.

A feature (esbonio's shape) has ``setup(server)``, which registers its handlers when the
server is built, and may have ``start(...)``, an async generator that builds the feature's
service once ``initialize`` has opened the workspace. ``start``'s parameters are what it needs,
by type (``X | None``: used when some feature provides it); what it yields is what it
provides; the code after its ``yield`` runs on shutdown. From these declarations the wiring
computes a small dependency graph when the features start: a feature whose requirement
nothing provides is skipped with a log line (its requests answer why), each of the others
starts as soon as what it needs has started (independent ones side by side), and they stop in
the reverse of the order they started in.

Features start in the background after the initialize response (``begin``), so the editor is
not kept waiting, and their types are resolved only then (``services`` imports each on first
use); a request that needs a service waits for the feature that provides it
(:meth:`Wiring.get`), which is the one accessor every handler uses.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import types
import typing
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from .errors import Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
Start = Callable[..., AsyncIterator[Any]]
SpawnStart = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]

NOT_INITIALIZED = "the daemon has not been initialized: send initialize first"


@dataclass(frozen=True)
class Need:
    """One parameter of a feature's ``start``: the type it wants, and whether it must exist."""

    parameter: str
    kind: type
    optional: bool


@dataclass(frozen=True)
class Feature:
    """A feature as the wiring sees it (built from a feature module by ``features``)."""

    name: str
    setup: Callable[[Any], None]
    """Registers the feature's handlers on the server being built."""
    start: Start | None = None

    @property
    def needs(self) -> list[Need]:
        return [] if self.start is None else _signature(self.start)[0]

    @property
    def provides(self) -> type | None:
        """The type ``start`` yields (None when it yields nothing)."""
        return None if self.start is None else _signature(self.start)[1]


@functools.cache
def _signature(start: Start) -> tuple[list[Need], type | None]:
    """(what ``start`` needs, what it provides), read from its annotations (which imports the
    types they name)."""
    hints = typing.get_type_hints(start)
    (provided,) = typing.get_args(hints.pop("return", None)) or (None,)
    needs = [_need(name, hint) for name, hint in hints.items()]
    return needs, None if provided in (None, type(None)) else cast(type, provided)


def _need(parameter: str, hint: Any) -> Need:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        if len(members) != 1:
            raise TypeError(f"{parameter}: a feature needs one type (or one type | None)")
        return Need(parameter, members[0], optional=True)
    return Need(parameter, hint, optional=False)


def plan(
    features: Sequence[Feature], base: Iterable[type], catalogue: dict[type, str]
) -> tuple[list[Feature], list[str]]:
    """The features that can run, in start order, and why each other one is skipped.

    ``base`` are the types the daemon itself provides (the server, the open workspace);
    ``catalogue`` names the feature that provides each type, for the reasons.
    """
    kept = list(features)
    skipped: list[str] = []
    while True:
        provided = set(base) | {f.provides for f in kept if f.provides is not None}
        missing = {
            f.name: [n for n in f.needs if not n.optional and n.kind not in provided] for f in kept
        }
        dropped = [f for f in kept if missing[f.name]]
        if not dropped:
            break
        for feature in dropped:
            need = missing[feature.name][0]
            source = catalogue.get(need.kind, "no")
            skipped.append(
                f"the {feature.name} feature is skipped: it needs {need.kind.__name__}, "
                f"which the {source} feature provides and this daemon does not run"
            )
        kept = [f for f in kept if f not in dropped]
    return _in_dependency_order(kept), skipped


def _in_dependency_order(features: list[Feature]) -> list[Feature]:
    """Kahn's algorithm; between features that do not depend on each other, catalogue order."""
    providers = {f.provides: f for f in features if f.provides is not None}
    after = {
        f.name: {providers[n.kind].name for n in f.needs if n.kind in providers} - {f.name}
        for f in features
    }
    ordered: list[Feature] = []
    while len(ordered) < len(features):
        done = {f.name for f in ordered}
        ready = [f for f in features if f.name not in done and after[f.name] <= done]
        if not ready:
            circle = sorted(set(after) - done)
            raise ValueError(f"features depend on each other in a circle: {', '.join(circle)}")
        ordered.append(ready[0])
    return ordered


class Wiring:
    """The features of one daemon, their start and stop, and the accessor to their services."""

    def __init__(self, chosen: Sequence[Feature], known: Sequence[Feature] = ()) -> None:
        self.chosen = list(chosen)
        """The features this daemon was built with (their handlers are registered)."""
        self.known = list(known) or self.chosen
        """Every feature there is, to say which one provides a type this daemon lacks."""
        self.features: list[Feature] = []
        """The features that start, in start order (once :meth:`begin` planned them)."""
        self.catalogue: dict[type, str] = {}
        """Which feature provides each type (every known feature, enabled or not)."""
        self._services: dict[type, object] | None = None
        """What is provided so far; None until initialize opened the workspace."""
        self._started: dict[str, asyncio.Event] = {}
        self._failed: dict[str, str] = {}
        """Features that did not start, and why."""
        self._running: list[tuple[str, AsyncIterator[Any]]] = []
        self._starting: asyncio.Task[None] | None = None
        self._spawn: SpawnStart | None = None

    def open(self, base: dict[type, object], spawn: SpawnStart) -> None:
        """Initialize opened the workspace: ``base`` is what every feature may ask for."""
        self._services = dict(base)
        self._started = {f.name: asyncio.Event() for f in self.chosen}
        self._failed = {}
        self._spawn = spawn

    def begin(self) -> None:
        """Plan the features and start them in the background (once)."""
        if self._starting is not None or self._spawn is None or self._services is None:
            return
        self.catalogue = {f.provides: f.name for f in self.known if f.provides is not None}
        self.features, skipped = plan(self.chosen, self._services, self.catalogue)
        for feature in self.chosen:
            if feature not in self.features:
                reason = next(r for r in skipped if r.startswith(f"the {feature.name} feature"))
                log.warning("%s", reason)
                self._failed[feature.name] = reason.split(": ", 1)[1]
                self._started[feature.name].set()
        self._starting = self._spawn(self._start_all())

    def base(self, kind: type[T]) -> T | None:
        """What the daemon itself provided at initialize (no waiting), None before."""
        found = None if self._services is None else self._services.get(kind)
        return cast(T, found) if found is not None else None

    async def get(self, kind: type[T]) -> T:
        """The service of type ``kind``, once its feature has started.

        Raises ``Unavailable`` (an error response that says why) when the daemon is not
        initialized, when no enabled feature provides ``kind``, or when its feature failed.
        """
        if self._services is None:
            raise Unavailable(NOT_INITIALIZED)
        if kind in self._services:
            return cast(T, self._services[kind])
        self.begin()
        name = self.catalogue.get(kind)
        if name is None or name not in self._started:
            what = f"the {name} feature is" if name else f"{kind.__name__} is"
            raise Unavailable(f"{what} not enabled in this daemon")
        await self._started[name].wait()
        if self._services is None:
            raise Unavailable(NOT_INITIALIZED)  # shut down meanwhile
        if name in self._failed:
            raise Unavailable(f"the {name} feature did not start: {self._failed[name]}")
        return cast(T, self._services[kind])

    async def find(self, kind: type[T]) -> T | None:
        """Like :meth:`get`, but None when the service is not there (for LSP features, which
        answer "no result" rather than an error)."""
        try:
            return await self.get(kind)
        except Unavailable:
            return None

    async def _start_all(self) -> None:
        await asyncio.gather(*(self._start_when_ready(feature) for feature in self.features))

    async def _start_when_ready(self, feature: Feature) -> None:
        """Start ``feature`` as soon as the features it needs have started: a slow start
        (``core`` lists and stats every file to detect the languages) holds up only the
        features that need what it provides, not the index's first pass."""
        try:
            for need in feature.needs:
                provider = self.catalogue.get(need.kind)
                if provider is not None and provider != feature.name and provider in self._started:
                    await self._started[provider].wait()
            await self._start(feature)
        finally:
            self._started[feature.name].set()

    async def _start(self, feature: Feature) -> None:
        services = self._services
        if feature.start is None or services is None:
            return
        arguments: dict[str, object] = {}
        for need in feature.needs:
            if need.kind in services:
                arguments[need.parameter] = services[need.kind]
            elif need.optional:
                arguments[need.parameter] = None
            else:
                provider = self.catalogue.get(need.kind, "?")
                why = self._failed.get(provider)
                self._failed[feature.name] = f"the {provider} feature it needs did not start" + (
                    f": {why}" if why else ""
                )
                log.warning(
                    "the %s feature is skipped: %s", feature.name, self._failed[feature.name]
                )
                return
        began = time.perf_counter()
        running = feature.start(**arguments)
        try:
            service = await anext(running)
        except Unavailable as exc:  # a refusal that explains itself: no traceback
            log.warning("the %s feature is off: %s", feature.name, exc.message)
            self._failed[feature.name] = str(exc.message)
            return
        except Exception as exc:
            log.exception("the %s feature failed to start", feature.name)
            self._failed[feature.name] = f"{exc} (see the daemon log)"
            return
        self._running.append((feature.name, running))
        if feature.provides is not None:
            services[feature.provides] = service
        log.debug("started %s in %.1f ms", feature.name, (time.perf_counter() - began) * 1000)

    async def stop(self) -> None:
        """Stop the started features in reverse order; one failing does not stop the others."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        while self._running:
            name, running = self._running.pop()
            try:
                await anext(running)
            except StopAsyncIteration:
                continue
            except Exception:
                log.exception("the %s feature failed to stop", name)
                continue
            log.error("the %s feature's start yields more than once", name)
        self._services = None
        self._starting = None
        for event in self._started.values():
            event.set()  # wake requests still waiting: they find the daemon shut down
