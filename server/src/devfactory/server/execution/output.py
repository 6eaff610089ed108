"""A command's output: two files on disk, coalesced ``command_output`` events, a bounded tail.

The child writes straight into its stdout and stderr files (no pipe through the daemon), so a
100 MB flood costs the daemon disk, not memory or CPU. A poller looks at the files a couple of
times a second and emits what is new, at most ``EVENT_BYTES`` per stream per tick: in a flood
the middle is skipped (the event says ``truncated``) and the files keep everything. Text is
decoded as UTF-8 with replacement, terminal escapes are removed and binary is summarised, so
events, the tail and the model's tool result stay readable whatever the command printed.
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
    """One output file: the child's write descriptor and our read position."""

    def __init__(self, stream: OutputStream, path: Path) -> None:
        self.stream = stream
        self.path = path
        self.write_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            self.reader = path.open("rb")
        except OSError:
            os.close(self.write_fd)
            raise
        self.position = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

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
        """Close the daemon's copy of the child's descriptor (once)."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def close(self) -> None:
        self.close_writer()
        self.reader.close()


class OutputCapture:
    """The stdout/stderr files of one command and the poller that streams them."""

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
        self.stderr = StreamFile(OutputStream.STDERR, directory / f"{stem}.stderr")
        self.emit = emit
        self.max_bytes = max_bytes
        self.interval_s = interval_s
        self.event_bytes = event_bytes
        self.limit_hit = asyncio.Event()
        """Set when stdout plus stderr outgrow ``max_bytes``: the command must be stopped."""
        self._poller: asyncio.Task[None] | None = None

    @property
    def streams(self) -> tuple[StreamFile, StreamFile]:
        return self.stdout, self.stderr

    def start(self) -> None:
        """Close our copies of the child's descriptors and start streaming."""
        for stream in self.streams:
            stream.close_writer()
        self._poller = asyncio.get_running_loop().create_task(self._poll(), name="command-output")

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
        if self.total_bytes() > self.max_bytes:
            self.limit_hit.set()

    def total_bytes(self) -> int:
        return self.stdout.size() + self.stderr.size()

    async def stop(self) -> None:
        """Emit what is left and stop polling (the files stay)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self._flush(final=True)

    def close(self) -> None:
        for stream in self.streams:
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
