"""Running an external agent (``claude``, aider...) as a process group, streaming its lines.

The process starts in a session of its own, so everything it spawns (shells, test runners,
language servers) shares its process group; cancelling, timing out or leaving the daemon's
task kills that whole group at once with SIGKILL, and nothing it started survives the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import ProviderError, ProviderUnavailable
from .redaction import redact

LineCallback = Callable[[str, str], Awaitable[None]]
"""``(stream, line)``: one line of output (stream is ``stdout`` or ``stderr``, no newline)."""

LINE_LIMIT = 16 * 1024 * 1024
"""Longest line kept (stream-json lines carry whole file contents)."""

EXIT_GRACE_S = 2.0
"""After the process exits, how long descendants may keep its pipes open before they die."""


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    on_line: LineCallback,
    cancel: asyncio.Event,
    timeout_s: float,
    label: str,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run ``argv`` in ``cwd`` until it exits; its exit code.

    ``cancel`` being set kills the group and raises CancelledError; so does cancelling the
    calling task. Past ``timeout_s`` the group is killed and a ProviderError names ``label``'s
    ``timeoutS`` setting.
    """
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=LINE_LIMIT,
        )
    except OSError as exc:
        raise ProviderUnavailable(redact(f"{label}: cannot start {argv[0]}: {exc}")) from None
    assert process.stdout is not None and process.stderr is not None
    reading = asyncio.gather(
        _pump(process.stdout, "stdout", on_line), _pump(process.stderr, "stderr", on_line)
    )
    finished = asyncio.ensure_future(_finish(process, reading))
    cancelled = asyncio.ensure_future(cancel.wait())
    try:
        done, _ = await asyncio.wait(
            {finished, cancelled}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        if finished in done:
            return finished.result()
        if cancelled in done:
            raise asyncio.CancelledError(f"{label} cancelled")
        raise ProviderError(f"{label}: no result within {timeout_s:g} s; raise its timeoutS")
    finally:
        cancelled.cancel()
        if process.returncode is None or not finished.done():
            kill_group(process.pid)
            finished.cancel()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading
            await process.wait()


async def _finish(
    process: asyncio.subprocess.Process, reading: asyncio.Future[tuple[None, None]]
) -> int:
    """The exit code once the output is read; a failing line callback ends it early."""
    exited = asyncio.ensure_future(process.wait())
    try:
        either: set[asyncio.Future[Any]] = {exited, reading}
        done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if reading in done:
            reading.result()  # re-raise a callback's error while the process still runs
        code = await exited
    finally:
        exited.cancel()
    _, pending = await asyncio.wait({reading}, timeout=EXIT_GRACE_S)
    if pending:  # a descendant still holds the pipes open: end it with its group
        kill_group(process.pid)
    await reading
    return code


async def _pump(reader: asyncio.StreamReader, stream: str, on_line: LineCallback) -> None:
    while True:
        try:
            raw = await reader.readline()
        except ValueError:  # longer than LINE_LIMIT: the reader dropped it
            await on_line(stream, f"[a line longer than {LINE_LIMIT} bytes was dropped]")
            continue
        if not raw:
            return
        await on_line(stream, raw.decode("utf-8", "replace").rstrip("\r\n"))


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (gone already is fine)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
