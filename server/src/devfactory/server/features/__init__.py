"""Feature packages, and ``create_server``, which builds a daemon from them.

Each feature module has ``setup(server)`` (its handlers) and may have ``start(...)`` (its
service, built once the workspace is open; see :mod:`..wiring` for how its parameters declare
what it needs). The order they start in is computed from those declarations, not from this
list, which only breaks ties and names what exists. Feature modules stay light to import: the
services they name come from :mod:`..services`, which loads each when the features start.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from ..app import DevFactoryServer
from ..wiring import Feature, Wiring

#: Every feature, by name. ``core`` (the LSP lifecycle, health) is always on.
FEATURES: tuple[str, ...] = (
    "core",
    "events",
    "snapshots",
    "index",
    "commands",
    "review",
    "runs",
    "git",
    "factory",
    "team",
    "trust",
)


def load(name: str) -> Feature:
    module = importlib.import_module(f"{__name__}.{name}")
    return Feature(name=name, setup=module.setup, start=getattr(module, "start", None))


def create_server(
    features: Iterable[str] | None = None, *, extra: Iterable[Feature] = ()
) -> DevFactoryServer:
    """A server with the named features (all of them by default) plus ``extra`` ones (a
    benchmark's). Each is wired to what it needs when the features start; one whose needs
    are missing is skipped then, with a log line, and its requests answer why."""
    wanted = list(FEATURES) if features is None else ["core", *(n for n in features if n != "core")]
    unknown = [name for name in wanted if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r}; known: {', '.join(FEATURES)}")
    every = [load(name) for name in FEATURES]
    chosen = [f for f in every if f.name in wanted] + list(extra)
    server = DevFactoryServer(Wiring(chosen, every))
    for feature in chosen:
        feature.setup(server)
    return server
