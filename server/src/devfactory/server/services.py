"""The types of the services features provide, each imported when first named.

Features name what they need and provide as ``services.RunManager``, ``services.EventBus``...
(in ``start`` signatures and in ``server.need(...)``). Looking a name up here imports its
module then, not when the daemon starts: building the server and answering ``initialize``
import none of the features' machinery (the index, the command executor, review, the agent
loop), which loads once the features start, after the editor has its answer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .events.bus import EventBus
    from .execution.service import CommandService
    from .factory.service import Factory
    from .index.service import IndexService
    from .review.service import ReviewService
    from .runs.manager import RunManager
    from .team.bridge import GatewayBridge
    from .workspace.snapshots import SnapshotService

MODULES = {
    "EventBus": "devfactory.server.events.bus",
    "SnapshotService": "devfactory.server.workspace.snapshots",
    "IndexService": "devfactory.server.index.service",
    "CommandService": "devfactory.server.execution.service",
    "ReviewService": "devfactory.server.review.service",
    "RunManager": "devfactory.server.runs.manager",
    "Factory": "devfactory.server.factory.service",
    "GatewayBridge": "devfactory.server.team.bridge",
}
"""Where each service type lives."""

__all__ = [
    "CommandService",
    "EventBus",
    "Factory",
    "GatewayBridge",
    "IndexService",
    "ReviewService",
    "RunManager",
    "SnapshotService",
]


def __getattr__(name: str) -> Any:
    if name not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    kind = getattr(importlib.import_module(MODULES[name]), name)
    globals()[name] = kind  # looked up once
    return kind
