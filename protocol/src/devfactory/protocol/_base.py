"""Base classes shared by every message of the wire contract.

camelCase on the wire, snake_case in Python: the conversion happens here, once, through
msgspec's ``rename="camel"``.
"""

from __future__ import annotations

import msgspec


class Model(msgspec.Struct, kw_only=True, rename="camel"):
    """A record sent by the daemon (results and notifications)."""


class Params(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Parameters of a request sent to the daemon.

    Unknown fields are refused so that a typo (``runID`` for ``runId``) is reported by name
    instead of being silently ignored.
    """


class NoParams(Params, kw_only=True):
    """A request that takes no parameters."""


class Payload(msgspec.Struct, kw_only=True, rename="camel"):
    """Base of the typed event payloads (``events.py``)."""
