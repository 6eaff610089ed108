"""Running a long-lived service's event loop so that the process ends when the service does.

``asyncio.run`` cancels the tasks still running when its coroutine returns and then waits for
every one of them without bound. One cancelled at the wrong instant never ends: a task caught
inside ``create_subprocess_exec`` while asyncio connects the child's pipes (its pipe task is
cancelled too, so the transport waits forever for pipes that never come; CPython gh-125502,
not fixed in 3.11). An editor that sent ``exit`` was then left with a daemon that never went
away. Here leftovers get a bounded grace to stop, and whatever is still running after it is
named in the log and left behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

STOP_GRACE_S = 2.0
"""How long tasks still running when the service ends get to finish their cancellation."""


def run_service(main: Coroutine[Any, Any, T], *, grace_s: float = STOP_GRACE_S) -> T:
    """``asyncio.run(main)``, except that leftover tasks get ``grace_s`` seconds to stop."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            _stop_leftovers(loop, grace_s)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(_bounded(loop.shutdown_default_executor(), grace_s))
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _stop_leftovers(loop: asyncio.AbstractEventLoop, grace_s: float) -> None:
    leftovers = asyncio.all_tasks(loop)
    if not leftovers:
        return
    for task in leftovers:
        task.cancel()
    done, pending = loop.run_until_complete(asyncio.wait(leftovers, timeout=grace_s))
    for task in done:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("task %s failed while stopping", task.get_name(), exc_info=exc)
    for task in pending:
        log.warning(
            "task %s did not stop within %gs of the service's end; left behind: %s",
            task.get_name(),
            grace_s,
            task.get_coro(),
        )


async def _bounded(work: Coroutine[Any, Any, None], grace_s: float) -> None:
    try:
        await asyncio.wait_for(work, grace_s)
    except TimeoutError:
        log.warning("threads still busy %gs after the service's end; not waited for", grace_s)
