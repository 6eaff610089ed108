"""LSP base-protocol framing on stdio, with bounded memory and recovery from bad frames.

pygls' reader trusts the ``Content-Length`` header (68719476736 is a MemoryError that ends the
daemon) and reads header lines of any length. Here a frame is cut from a buffer that never
holds more than one bounded message: a frame that is too large or has a malformed header is
reported (:class:`FrameError`, which the protocol logs and answers) and skipped, and reading
resumes at the next ``Content-Length`` header. JSON text cannot contain that header followed by
a raw line break, so the body of a skipped frame never looks like the start of the next one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import BinaryIO

from devfactory.protocol import errors as codes

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""The largest message body accepted: a whole-document ``didChange`` of a big file fits."""
MAX_HEADER_BYTES = 8 * 1024
"""A header block is two short lines; anything longer is not a header."""
READ_CHUNK_BYTES = 1024 * 1024

_TERMINATOR = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d{1,20})[ \t]*", re.IGNORECASE)
_NEXT_HEADER = re.compile(rb"content-length:[ \t]*\d{1,20}[ \t]*\r\n", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"[A-Za-z0-9-]+:[^\r\n]*")


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"


@dataclass(frozen=True)
class FrameError:
    """A frame that was skipped: the JSON-RPC error code to answer with, and why."""

    code: int
    reason: str


class FrameDecoder:
    """Cuts LSP frames out of a byte stream, fed in chunks of any size."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._body_length: int | None = None
        """Set between a good header and the end of its body."""
        self._resyncing = False
        """After a bad frame: skipping bytes up to the next ``Content-Length`` header."""

    @property
    def partial(self) -> bool:
        """Whether a message was cut off (bytes are waiting for the rest of their frame)."""
        return self._body_length is not None or bool(self._buffer.strip())

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        """The complete message bodies (and skipped frames) that ``data`` finishes."""
        self._buffer += data
        out: list[bytes | FrameError] = []
        while (item := self._next()) is not None:
            out.append(item)
        return out

    def _next(self) -> bytes | FrameError | None:
        buffer = self._buffer
        if self._resyncing and not self._resync():
            return None
        if self._body_length is not None:
            if len(buffer) < self._body_length:
                return None
            body = bytes(buffer[: self._body_length])
            del buffer[: self._body_length]
            self._body_length = None
            return body
        while buffer[:2] == b"\r\n":  # blank lines between frames are harmless
            del buffer[:2]
        end = buffer.find(_TERMINATOR, 0, MAX_HEADER_BYTES + len(_TERMINATOR))
        if end < 0:
            if len(buffer) <= MAX_HEADER_BYTES:
                return None
            return self._skip(
                codes.PARSE_ERROR, f"no header (no blank line within {_size(MAX_HEADER_BYTES)})"
            )
        header = bytes(buffer[:end])
        length = self._content_length(header)
        if isinstance(length, FrameError):
            return self._skip(length.code, length.reason)
        del buffer[: end + len(_TERMINATOR)]
        self._body_length = length
        return self._next()

    def _content_length(self, header: bytes) -> int | FrameError:
        length: int | None = None
        for line in header.split(b"\r\n"):
            match = _CONTENT_LENGTH.fullmatch(line)
            if line[:15].lower() == b"content-length:":
                if match is None or length not in (None, int(match.group(1))):
                    shown = line[:60].decode("ascii", "replace")
                    return FrameError(codes.PARSE_ERROR, f"invalid header {shown!r}")
                length = int(match.group(1))
            elif not _HEADER_LINE.fullmatch(line):
                shown = line[:60].decode("ascii", "replace")
                return FrameError(codes.PARSE_ERROR, f"malformed header line {shown!r}")
        if length is None:
            return FrameError(codes.PARSE_ERROR, "the header has no valid Content-Length")
        if length > self.max_message_bytes:
            return FrameError(
                codes.INVALID_REQUEST,
                f"a message of {length} bytes is over the {_size(self.max_message_bytes)} limit",
            )
        return length

    def _skip(self, code: int, reason: str) -> FrameError:
        """Give up on the frame at the head of the buffer and look for the next one."""
        del self._buffer[:1]
        self._resyncing = True
        return FrameError(code, f"{reason}; the frame was skipped")

    def _resync(self) -> bool:
        """Drop bytes up to the next ``Content-Length`` header; whether one was found."""
        match = _NEXT_HEADER.search(self._buffer)
        if match is None:
            keep = 40  # a header cut in two by the chunking
            del self._buffer[: max(0, len(self._buffer) - keep)]
            return False
        del self._buffer[: match.start()]
        self._resyncing = False
        return True


async def read_frames(
    stop_event: threading.Event,
    stdin: BinaryIO,
    executor: Executor,
    on_message: Callable[[bytes], None],
    on_bad_frame: Callable[[FrameError], None],
    decoder: FrameDecoder | None = None,
) -> None:
    """Read ``stdin`` until EOF (or ``stop_event``), handing each frame to a callback."""
    loop = asyncio.get_running_loop()
    decoder = decoder or FrameDecoder()
    read = getattr(stdin, "read1", stdin.read)
    while not stop_event.is_set():
        chunk: bytes = await loop.run_in_executor(executor, read, READ_CHUNK_BYTES)
        if not chunk:
            break
        for item in decoder.feed(chunk):
            if isinstance(item, FrameError):
                on_bad_frame(item)
            else:
                on_message(item)
    if decoder.partial:
        log.warning("the client closed the connection in the middle of a message")
