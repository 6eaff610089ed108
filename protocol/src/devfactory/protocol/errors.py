"""JSON-RPC error codes the daemon answers with, and the exception a client raises for them."""

from __future__ import annotations

from typing import Any, Final

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
NOT_FOUND: Final = -32004
"""A run, change, snapshot... with that id does not exist."""
INVALID_STATE: Final = -32005
"""The request is not allowed in the target's current state (resume a completed run)."""
REFUSED: Final = -32006
"""The request was refused by policy (push without an approved review)."""
UNAVAILABLE: Final = -32007
"""A required tool or service is missing (no git, no provider key)."""


class RpcError(Exception):
    """An error response from the daemon."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})"
