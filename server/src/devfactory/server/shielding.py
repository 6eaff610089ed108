"""Work that must be done in full: despite a cancellation, despite a full disk.

Stop cancels a run's task wherever it waits, and ``$/cancelRequest`` cancels a request's. Some
sequences must still finish once begun: a status change with its event and notification, a
new run with its scheduling, a command's final record. These helpers run such a sequence as a
task of its own and wait for its end whatever happens to the task that awaits it.

And some records must be written even if the disk is full when they are due (a run that
failed, a command that ended): :func:`until_stored` retries them until there is room again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from devfactory.storage import StorageFull

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0


def _start(coro: Coroutine[Any, Any, T], keep: set[asyncio.Task[Any]] | None) -> asyncio.Task[T]:
    task = asyncio.get_running_loop().create_task(coro)
    if keep is not None:
        keep.add(task)
        task.add_done_callback(keep.discard)
    return task


async def _wait_out(task: asyncio.Task[Any]) -> int:
    """Wait until ``task`` is done; how many times the waiting task was cancelled meanwhile."""
    cancels = 0
    while not task.done():
        try:
            await asyncio.wait({task})  # unlike awaiting the task, never cancels it
        except asyncio.CancelledError:
            cancels += 1
    return cancels


async def finish_despite_cancel(
    coro: Coroutine[Any, Any, T], keep: set[asyncio.Task[Any]] | None = None
) -> T:
    """Run ``coro`` to its end and return its result, even if the awaiting task is cancelled
    meanwhile: the work the cancellation came too late for is done, so the caller reports it.

    ``keep`` holds the task while it runs (for a shutdown that waits for such work).
    """
    task = _start(coro, keep)
    cancels = await _wait_out(task)
    current = asyncio.current_task()
    for _ in range(cancels if current is not None else 0):
        current.uncancel()  # type: ignore[union-attr]
    return task.result()


async def finish_then_cancel(
    coro: Coroutine[Any, Any, T],
    keep: set[asyncio.Task[Any]] | None = None,
    *,
    undo: Callable[[T], Coroutine[Any, Any, object]] | None = None,
) -> T:
    """Run ``coro`` to its end; then, if the awaiting task was cancelled meanwhile, ``undo``
    its result (what the cancellation came too late to prevent) and go on with the
    cancellation (raise ``CancelledError``); else return the result.

    For a step of a task that Stop cancels: the step completes, the task still stops.
    """
    task = _start(coro, keep)
    cancelled = await _wait_out(task)
    result = task.result()  # the work's own failure is reported first
    if cancelled:
        if undo is not None:
            await finish_despite_cancel(undo(result), keep)
        raise asyncio.CancelledError
    return result


async def until_stored(write: Callable[[], Awaitable[T]], what: str) -> T:
    """``await write()``, again and again while the disk is full, until it is stored.

    Cancelling the caller (the daemon stopping) gives up; the next daemon's recovery then
    closes what this one left open.
    """
    delay = RETRY_FIRST_S
    while True:
        try:
            return await write()
        except StorageFull as exc:
            log.warning("%s waits for disk space (%s); retrying in %.1fs", what, exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RETRY_MAX_S)
