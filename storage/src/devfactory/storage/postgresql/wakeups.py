"""LISTEN/NOTIFY as a wake-up for readers of the events table.

Every transaction that appends events sends one ``NOTIFY devfactory_events, '<project id>'``
per project (delivered at commit, so a woken reader finds the rows). A reader waits on
:meth:`EventWakeups.wait` instead of sleeping between polls; the table stays the record, the
notification only says "read it now". Notifications carry no data and may coalesce; a reader
that missed one (the listening connection dropped) still reads at its poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from psycopg import AsyncConnection

log = logging.getLogger(__name__)

CHANNEL = "devfactory_events"


class EventWakeups:
    """One listening connection per store, opened on the first wait, and a flag per project."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._flags: dict[int, asyncio.Event] = {}
        self._listener: asyncio.Task[None] | None = None

    async def wait(self, project_id: int, timeout: float) -> bool:
        """Whether events of ``project_id`` were committed since the last wait (returns as
        soon as they are, or after ``timeout``)."""
        flag = self._flags.setdefault(project_id, asyncio.Event())
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name="events-listen"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flag.wait(), timeout)
        woken = flag.is_set()
        flag.clear()
        return woken

    async def _listen(self) -> None:
        try:
            conn = await AsyncConnection.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            log.warning("cannot listen for events (polling instead): %s", exc)
            return
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            async for notice in conn.notifies():
                with contextlib.suppress(ValueError):
                    if (flag := self._flags.get(int(notice.payload))) is not None:
                        flag.set()
        except psycopg.Error as exc:
            log.warning("stopped listening for events (polling instead): %s", exc)
        finally:
            await conn.close()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
