"""A command's output: two files on disk, coalesced ``command_output`` events, a bounded tail.

The child writes into two pipes; the daemon copies them into the stdout and stderr files as
they become readable, ``READ_BYTES`` at a time, counting. The count is what enforces
``max_output_mb``: the copy stops at exactly the cap and the command is stopped, and since
the child blocks on a full pipe nothing more reaches the disk meanwhile (a child writing a
file directly could fill gigabytes between two looks). A flood costs the daemon one chunk of
memory. A poller looks at the files a couple of times a second and emits what is new, at most
``EVENT_BYTES`` per stream per tick: in a flood the middle is skipped (the event says
``truncated``) and the files keep everything. Text is decoded as UTF-8 with replacement,
terminal escapes are removed and binary is summarised, so events, the tail and the model's
tool result stay readable whatever the command printed.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from devfactory.protocol.enums import OutputStream

EVENT_BYTES = 4096
READ_BYTES = 64 * 1024
"""One read from a command's pipe (the size of a Linux pipe buffer)."""
INTERVAL_S = 0.5
TAIL_BYTES = 6000
SUMMARY_BYTES = 64 * 1024

Emit = Callable[[OutputStream, str, bool], Awaitable[None]]
"""Called with (stream, text, truncated) for each coalesced chunk."""

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_terminal(text: str) -> str:
    """Without colour codes and carriage returns (progress bars become lines)."""
    return _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def printable(text: str) -> str:
    """Text fit for an event or the model: binary output is summarised, not echoed."""
    text = strip_terminal(text)
    odd = len(_CONTROL.findall(text)) + text.count("\ufffd")
    if odd > 8 and odd * 10 > len(text):
        return f"[binary output, {len(text)} characters not shown]\n"
    return _CONTROL.sub("\ufffd", text)


class StreamFile:
    """One output stream: the pipe the child writes, the file the daemon copies it into, and
    the poller's read position in that file."""

    def __init__(self, stream: OutputStream, path: Path) -> None:
        self.stream = stream
        self.path = path
        with contextlib.ExitStack() as undo:  # close what was opened if a step fails
            self.file_fd = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600
            )
            undo.callback(os.close, self.file_fd)
            self.reader = undo.enter_context(path.open("rb"))
            self.pipe_fd, self.write_fd = os.pipe()  # not inherited; the child gets a dup
            undo.pop_all()
        os.set_blocking(self.pipe_fd, False)
        self.ended = False
        """The pipe reached its end of file: every writer closed it."""
        self.position = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def read_pipe(self, limit: int) -> bytes | None:
        """At most ``limit`` bytes from the pipe; None when it is empty for now, ``b""`` at
        the end of file (which closes the stream)."""
        try:
            data = os.read(self.pipe_fd, limit)
        except BlockingIOError:
            return None
        if not data:
            self.ended = True
        return data

    def store(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.file_fd, view) :]

    def size(self) -> int:
        return os.fstat(self.reader.fileno()).st_size

    def read_new(self, limit: int, *, final: bool = False) -> tuple[str, bool]:
        """What was written since the last call, at most ``limit`` bytes (the newest)."""
        size = self.size()
        truncated = False
        if size - self.position > limit:
            self.position = size - limit
            self.decoder.reset()
            truncated = True
        data = b""
        if size > self.position:
            self.reader.seek(self.position)
            data = self.reader.read(size - self.position)
            self.position += len(data)
        return self.decoder.decode(data, final=final), truncated

    def tail(self, limit: int) -> str:
        size = self.size()
        self.reader.seek(max(0, size - limit))
        return self.reader.read(limit).decode("utf-8", "replace")

    def close_writer(self) -> None:
        """Close the daemon's copy of the child's end of the pipe (once)."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def close(self) -> None:
        self.close_writer()
        for fd in (self.pipe_fd, self.file_fd):
            if fd >= 0:
                os.close(fd)
        self.pipe_fd = self.file_fd = -1
        self.reader.close()


class OutputCapture:
    """The stdout/stderr pipes of one command, the files they are copied to, and the poller
    that streams those files."""

    def __init__(
        self,
        directory: Path,
        stem: str,
        emit: Emit,
        *,
        max_bytes: int,
        interval_s: float = INTERVAL_S,
        event_bytes: int = EVENT_BYTES,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.stdout = StreamFile(OutputStream.STDOUT, directory / f"{stem}.stdout")
        try:
            self.stderr = StreamFile(OutputStream.STDERR, directory / f"{stem}.stderr")
        except OSError:
            self.stdout.close()
            raise
        self.emit = emit
        self.max_bytes = max_bytes
        self.interval_s = interval_s
        self.event_bytes = event_bytes
        self.copied = 0
        """Bytes of stdout plus stderr in the files: never more than ``max_bytes``."""
        self.limit_hit = asyncio.Event()
        """Set when the output cannot all be kept (past ``max_bytes``, a full disk): the
        command must be stopped."""
        self.problem: str | None = None
        """Why copying stopped early, once ``limit_hit`` is set."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None

    @property
    def streams(self) -> tuple[StreamFile, StreamFile]:
        return self.stdout, self.stderr

    def start(self) -> None:
        """Close our copies of the child's ends, copy the pipes as they fill, stream the files."""
        self._loop = asyncio.get_running_loop()
        for stream in self.streams:
            stream.close_writer()
            self._loop.add_reader(stream.pipe_fd, self._copy, stream)
        self._poller = self._loop.create_task(self._poll(), name="command-output")

    def _copy(self, stream: StreamFile) -> bool:
        """One read of a readable pipe, stored up to the cap; past it, stop copying (the
        runner stops the command). False when there was nothing to read."""
        room = self.max_bytes - self.copied
        try:
            # One byte past the room tells "more than the cap" from "exactly the cap".
            data = stream.read_pipe(min(READ_BYTES, room + 1))
            if data is None:
                return False
            stream.store(data[:room])
        except OSError as exc:
            self._give_up(f"its output could not be stored: {exc.strerror or exc}")
            return False
        self.copied += min(len(data), room)
        if len(data) > room:
            self._give_up(f"output exceeded {self.max_bytes // (1024 * 1024)} MB")
        elif stream.ended:
            self._unwatch(stream)
        return bool(data)

    def _give_up(self, problem: str) -> None:
        self.problem = problem
        self.limit_hit.set()
        for stream in self.streams:
            self._unwatch(stream)

    def _unwatch(self, stream: StreamFile) -> None:
        if self._loop is not None and stream.pipe_fd >= 0:
            self._loop.remove_reader(stream.pipe_fd)

    def _drain(self) -> None:
        """Copy what is left in the pipes without waiting for an end of file (a process
        that escaped may hold a pipe open)."""
        for stream in self.streams:
            while not stream.ended and not self.limit_hit.is_set() and self._copy(stream):
                pass
            self._unwatch(stream)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self._flush(final=False)

    async def _flush(self, *, final: bool) -> None:
        for stream in self.streams:
            text, truncated = stream.read_new(self.event_bytes, final=final)
            shown = printable(text)
            if shown:
                await self.emit(stream.stream, shown, truncated)

    def total_bytes(self) -> int:
        return self.copied

    async def stop(self) -> None:
        """Copy and emit what is left and stop (the files stay)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        self._drain()
        await self._flush(final=True)

    def close(self) -> None:
        for stream in self.streams:
            self._unwatch(stream)
            stream.close()

    def tail(self, limit: int = TAIL_BYTES) -> str:
        """The end of stdout, then the end of stderr (labelled), readable."""
        out = printable(self.stdout.tail(limit)).strip("\n")
        err = printable(self.stderr.tail(limit // 2)).strip("\n")
        parts = [out] if out else []
        if err:
            parts.append(f"[stderr]\n{err}")
        return "\n".join(parts)

    def summary_text(self) -> str:
        """The last output of both streams, for test summaries (terminal codes removed)."""
        return "\n".join(strip_terminal(s.tail(SUMMARY_BYTES)) for s in self.streams)
