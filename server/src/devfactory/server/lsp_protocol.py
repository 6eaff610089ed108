"""The pygls protocol and converter, taught to speak msgspec.

pygls serialises attrs classes, enums and objects with ``__dict__``; a ``msgspec.Struct`` is
none of these, and params of custom methods arrive as namedtuples. Here, once: Structs are
turned into builtins on the way out, and params of methods lsprotocol does not know stay plain
JSON data on the way in, so ``devfactory.server.rpc`` can validate them with msgspec.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import cattrs
import msgspec
from pygls.exceptions import JsonRpcInternalError
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
)


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
    """LanguageServerProtocol that can send msgspec Structs anywhere in a message."""

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
