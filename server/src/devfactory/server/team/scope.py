"""What a local daemon asks its team's gateway instead of answering itself.

The shared state of team mode: runs (and their questions), their events, and the changes they
propose with their reviews. Everything else stays local to the developer's machine: the
workspace index and search, project rules and map, snapshots, commands, git, and the factory
(initiatives stay on the daemon that plans them until the workers' branch shares them).
"""

from __future__ import annotations

from typing import Final

from devfactory.protocol.methods import REQUESTS

_SHARED_PREFIXES = ("devfactory/runs/", "devfactory/hitl/", "devfactory/changes/")

BRIDGED: Final[frozenset[str]] = frozenset(
    method
    for method in REQUESTS
    if method.startswith(_SHARED_PREFIXES)
    or method in ("devfactory/events", "devfactory/reviews/submit")
)
"""The methods a daemon with ``[team] gateway`` forwards to the gateway."""
