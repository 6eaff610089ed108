"""The pygls protocol and converter, taught to speak msgspec and to answer every request.

pygls serialises attrs classes, enums and objects with ``__dict__``; a ``msgspec.Struct`` is
none of these, and params of custom methods arrive as namedtuples. Here, once: Structs are
turned into builtins on the way out, and params of methods lsprotocol does not know stay plain
JSON data on the way in, so ``devfactory.server.rpc`` can validate them with msgspec.

Frames come from :mod:`.transport` and are checked by :mod:`.envelope`: a bad message is
logged and answered, never dropped silently, and no error response carries a traceback (the
log has it). ``initialize`` is accepted once; after ``shutdown`` requests are refused.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Generator
from typing import Any

import cattrs
import msgspec
from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidRequest
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
    lsp_method,
)
from pygls.protocol.json_rpc import RPCRequest

from . import envelope
from .transport import FrameError

log = logging.getLogger(__name__)


def _keep_raw(obj: dict[str, Any], cls: type[Any]) -> Any:
    return cls(**obj)


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def converter_factory() -> cattrs.Converter:
    """lsprotocol's converter, plus msgspec Structs out and raw custom params in."""
    converter: cattrs.Converter = default_converter()  # type: ignore[no-untyped-call]
    for message_type in (JsonRPCRequestMessage, JsonRPCNotification, JsonRPCResponseMessage):
        converter.register_structure_hook(message_type, _keep_raw)
    converter.register_unstructure_hook_func(_is_struct, msgspec.to_builtins)
    return converter


_encoder = msgspec.json.Encoder()


class DevFactoryProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that sends msgspec Structs anywhere in a message and answers
    every request it is sent, even a malformed one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        """Set by the first ``initialize``: a daemon serves one workspace for its whole life."""

    # -- incoming messages -------------------------------------------------------------------

    def handle_frame(self, body: bytes) -> None:
        """Decode, check and dispatch one frame's message (see :mod:`.envelope`)."""
        try:
            data = envelope.decode(body)
            envelope.check(data)
            if "method" in data:
                message = envelope.structure_call(
                    data, self.get_message_type(data["method"]), self._converter.structure
                )
            else:
                message = self.structure_message(data)
        except envelope.BadMessage as bad:
            log.warning("refused a message: %s", bad.error.message)
            if bad.answer:
                self._send_error(bad.msg_id, bad.error.code, bad.error.message)
            return
        except Exception:  # a response we cannot read: nothing to answer
            log.exception("could not read a message from the client")
            return
        try:
            self.handle_message(message)
        except Exception:  # pygls answers failing requests itself; the rest is the log's
            log.exception("could not handle a message from the client")

    def reject_frame(self, error: FrameError) -> None:
        """A frame the transport skipped: logged, and answered since it may have been a
        request (its id is unknown: ``"id": null``)."""
        log.warning("refused a frame: %s", error.reason)
        self._send_error(None, error.code, error.reason)

    def _send_error(self, msg_id: envelope.MsgId | None, code: int, message: str) -> None:
        error = {"code": code, "message": message}
        self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "error": error})

    def handle_message(self, message: Any) -> None:
        """pygls drops requests after ``shutdown`` without a word; they are refused here."""
        if self._shutdown and isinstance(message, RPCRequest) and message.method != types.EXIT:
            self._send_error(
                message.id,
                JsonRpcInvalidRequest.CODE,
                f"the daemon is shutting down and refuses {message.method}: only exit is accepted",
            )
            return
        super().handle_message(message)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """A second ``initialize`` would re-point the daemon at another folder (and leave the
        first workspace's database open): the LSP allows one, so the rest are refused."""
        if self.initialize_received:
            raise JsonRpcInvalidRequest(
                "the daemon is already initialized: initialize may be sent once per "
                "connection; start another daemon to serve another folder"
            )
        self.initialize_received = True
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result

    # -- outgoing messages -------------------------------------------------------------------

    def _send_response(
        self, msg_id: Any, result: Any = None, error: types.ResponseError | None = None
    ) -> None:
        """pygls puts the traceback of an internal error in ``data``; it is in the log
        already and has no business in the editor."""
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            error = types.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)

    def _handle_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        """A late answer to a request we gave up on (cancelled at shutdown) is not an error."""
        future = self._request_futures.get(msg_id)
        if future is not None and future.cancelled():
            self._request_futures.pop(msg_id, None)
            return
        super()._handle_response(msg_id, result, error)

    def _serialize_message(self, data: Any) -> Any:
        if isinstance(data, msgspec.Struct):
            return msgspec.to_builtins(data)
        return super()._serialize_message(data)

    def notify(self, method: str, params: Any | None = None) -> None:
        """Notifications with Struct params (every ``devfactory/*`` one) are encoded by msgspec
        in one step: about 1.6 µs instead of pygls' 21 µs (cattrs, then json), which the event
        stream pays for every event it sends."""
        if not isinstance(params, msgspec.Struct) or self.writer is None:
            super().notify(method, params)
            return
        body = _encoder.encode({"jsonrpc": self.VERSION, "method": method, "params": params})
        if self._include_headers:
            header = (
                f"Content-Length: {len(body)}\r\n"
                f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            )
            body = header.encode("ascii") + body
        try:
            res = self.writer.write(body)
            if inspect.isawaitable(res):
                asyncio.ensure_future(res)  # noqa: RUF006 - as pygls does: the transport owns it
        except BrokenPipeError:
            raise
        except Exception as error:
            self._server._report_server_error(error, JsonRpcInternalError)
