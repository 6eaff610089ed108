"""One JSON-RPC message out of one frame: decoded, checked and typed, or the error that
answers it.

pygls decodes a frame with ``json.loads(object_hook=structure_message)``: a request whose
params do not fit lsprotocol's type (``textDocument/hover`` with ``{}``) or that omits
``params`` fails before its id is read, so it is never answered; ``NaN``, lone surrogates and
batches get through. Here the envelope is checked first, so every request that has an id
gets an answer, and the answer to a bad one names what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
import msgspec
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
)
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage

MsgId = int | str

_decoder = msgspec.json.Decoder()


class BadMessage(Exception):
    """A message that cannot be handled; ``answer`` says whether a response is owed."""

    def __init__(self, error: JsonRpcException, msg_id: MsgId | None, *, answer: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.msg_id = msg_id
        self.answer = answer


def _is_id(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def decode(body: bytes) -> dict[str, Any]:
    """The message object in ``body``; BadMessage (answered with ``"id": null``) otherwise."""
    try:
        data = _decoder.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise BadMessage(
            JsonRpcParseError(f"Parse error: the message is not valid JSON ({exc})"),
            None,
            answer=True,
        ) from None
    if isinstance(data, list):
        raise BadMessage(
            JsonRpcInvalidRequest("batch messages are not supported: send one message per frame"),
            None,
            answer=True,
        )
    if not isinstance(data, dict):
        raise BadMessage(
            JsonRpcInvalidRequest(f"a message must be a JSON object, got {type(data).__name__}"),
            None,
            answer=True,
        )
    return data


def check(data: dict[str, Any]) -> None:
    """Refuse a message that is not a JSON-RPC 2.0 request, notification or response.

    As JSON-RPC says, such a message is answered (``Invalid Request``) even without an id.
    """
    msg_id = data.get("id")
    method = data.get("method")
    problem = None
    if data.get("jsonrpc") != "2.0":
        problem = 'a message needs "jsonrpc": "2.0"'
    elif "id" in data and not _is_id(msg_id):
        problem = f"the id must be an integer or a string, not {msgspec.json.encode(msg_id)!r}"
    elif "method" in data:
        if not isinstance(method, str):
            problem = "the method must be a string"
        elif data.get("params") is not None and not isinstance(data["params"], dict | list):
            problem = f"the params of {method} must be an object or an array"
    elif "id" not in data or ("result" not in data and "error" not in data):
        problem = "a message needs a method (request, notification) or a result (response)"
    if problem is not None:
        raise BadMessage(
            JsonRpcInvalidRequest(problem), msg_id if _is_id(msg_id) else None, answer=True
        )


def structure_call(
    data: dict[str, Any],
    message_type: type[Any] | None,
    structure: Callable[[Any, type[Any]], Any],
) -> Any:
    """A request or notification as pygls handles it: lsprotocol's type when it has one,
    else the raw envelope (``devfactory/*`` params are validated by :mod:`.rpc`)."""
    method = data["method"]
    is_request = "id" in data
    msg_id = data.get("id")
    params = data.get("params")
    if message_type is None:
        if is_request:
            return JsonRPCRequestMessage(id=data["id"], method=method, jsonrpc="2.0", params=params)
        return JsonRPCNotification(method=method, jsonrpc="2.0", params=params)
    if is_request != ("id" in attrs.fields_dict(message_type)):
        kind = "a notification: send it without an id" if is_request else "a request: add an id"
        raise BadMessage(JsonRpcInvalidRequest(f"{method} is {kind}"), msg_id, answer=is_request)
    envelope = {"jsonrpc": "2.0", "method": method}
    if is_request:
        envelope["id"] = msg_id
    if params is not None:
        envelope["params"] = params
    try:
        return structure(envelope, message_type)
    except (cattrs.BaseValidationError, ValueError, TypeError, RecursionError) as exc:
        raise BadMessage(
            JsonRpcInvalidParams(f"invalid params for {method}: {describe(exc)}"),
            msg_id,
            answer=is_request,
        ) from None


_SNAKE = re.compile(r"_([a-z])")


def describe(exc: BaseException) -> str:
    """cattrs' errors as short lines with wire (camelCase) paths: ``required field missing
    @ $.params.textDocument``."""
    if isinstance(exc, cattrs.BaseValidationError):
        lines = cattrs.transform_error(exc)
        return "; ".join(_SNAKE.sub(lambda m: m.group(1).upper(), line) for line in lines[:5])
    return str(exc) or type(exc).__name__
