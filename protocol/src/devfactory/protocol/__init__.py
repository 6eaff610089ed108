"""The DevFactory wire contract.

Typed ``devfactory/*`` messages (msgspec Structs, camelCase on the wire), the enumerations of
the domain, the method registry, the JSON Schema export, and a stdio client.
"""

from __future__ import annotations

from .enums import (
    RUN_CONTROLS,
    AgentRole,
    ChangeAction,
    ChangeStatus,
    EventType,
    ExecutionMode,
    HitlAction,
    HitlStatus,
    ProviderName,
    ReviewDecision,
    RunControl,
    RunStatus,
    SearchMode,
    Severity,
    SnapshotType,
    SourceType,
)
from .errors import RpcError
from .methods import NOTIFICATIONS, PROTOCOL_VERSION, REQUESTS, Commands, Notifications, Requests

__all__ = [
    "NOTIFICATIONS",
    "PROTOCOL_VERSION",
    "REQUESTS",
    "RUN_CONTROLS",
    "AgentRole",
    "ChangeAction",
    "ChangeStatus",
    "Commands",
    "EventType",
    "ExecutionMode",
    "HitlAction",
    "HitlStatus",
    "Notifications",
    "ProviderName",
    "Requests",
    "ReviewDecision",
    "RpcError",
    "RunControl",
    "RunStatus",
    "SearchMode",
    "Severity",
    "SnapshotType",
    "SourceType",
]
