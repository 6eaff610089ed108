"""Errors a ``devfactory/*`` handler raises; each becomes a JSON-RPC error response.

Bad requests (a missing field, an unknown run) are the client's to fix and say how; anything
else is a bug and becomes an internal error while the server keeps serving.
"""

from __future__ import annotations

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from devfactory.protocol import errors as codes


class InvalidParams(JsonRpcInvalidParams):
    """A request's params are wrong; the message names the field and the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)


class NotFound(JsonRpcException):
    CODE = codes.NOT_FOUND

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(message=f"{what} {ident} does not exist", code=codes.NOT_FOUND)


class InvalidState(JsonRpcException):
    """The target exists but cannot do that now (resume a completed run)."""

    CODE = codes.INVALID_STATE

    def __init__(self, message: str) -> None:
        super().__init__(message=message, code=codes.INVALID_STATE)


class Refused(JsonRpcException):
    """Policy forbids the request (push without an approved review)."""

    CODE = codes.REFUSED

    def __init__(self, message: str) -> None:
        super().__init__(message=message, code=codes.REFUSED)


class Unavailable(JsonRpcException):
    """Something the request needs is missing (git, a provider key, the workspace)."""

    CODE = codes.UNAVAILABLE

    def __init__(self, message: str) -> None:
        super().__init__(message=message, code=codes.UNAVAILABLE)
