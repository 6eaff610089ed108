"""Feature packages: each registers its handlers and hooks in one ``setup(server)``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import DevFactoryServer

#: Feature name -> module with ``setup(server)``, in start-up order (shutdown is the reverse).
#: ``core`` is mandatory. ``commands`` recovers the commands of a daemon that died before
#: ``runs`` recovers its runs, so a stranded run's last events are in order; on shutdown the
#: runs stop (recording their commands' ends) before the remaining commands are killed.
FEATURES: dict[str, str] = {
    "core": "devfactory.server.features.core",
    "events": "devfactory.server.features.events",
    "index": "devfactory.server.features.index",
    "commands": "devfactory.server.features.commands",
    "runs": "devfactory.server.features.runs",
    "review": "devfactory.server.features.review",
    "git": "devfactory.server.features.git",
    "factory": "devfactory.server.features.factory",
}


def setup_features(server: DevFactoryServer, names: Iterable[str] | None = None) -> None:
    wanted = list(FEATURES) if names is None else ["core", *(n for n in names if n != "core")]
    for name in wanted:
        if name not in FEATURES:
            raise ValueError(f"unknown feature {name!r}; known: {', '.join(FEATURES)}")
        importlib.import_module(FEATURES[name]).setup(server)
