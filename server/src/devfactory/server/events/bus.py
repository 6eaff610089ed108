"""``EventBus``: every step of a run is committed to ``agent_events`` and then notified.

Emitters await ``emit``; concurrent emits are written together in one transaction (the queue
fills while the previous batch commits), which is what lets many runs stream thousands of
events a second. Notifications leave in id order, after their batch committed, so a client
that replays with ``devfactory/events`` and then follows ``devfactory/event`` sees no gap and
no duplicate.

Several daemons may serve one workspace (an editor's and a CLI's, a team's gateway and its
workers): each also tails the events table for events the others committed and forwards
them, so every attached client sees every run. On PostgreSQL the tail is woken by a
NOTIFY sent once per committed batch, so it forwards at once instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import Event, EventNotification, Payload, encode_payload
from devfactory.protocol.methods import Notifications
from devfactory.storage import LeaseLost, Store
from devfactory.storage.clock import now_iso
from devfactory.storage.ports import NewEvent

log = logging.getLogger(__name__)
T = TypeVar("T")

Sender = Callable[[str, EventNotification], None]
Listener = Callable[[Event], None]

TAIL_INTERVAL_S = 0.3
TAIL_BATCH = 500

DEFAULT_SEVERITY: dict[EventType, Severity] = {
    EventType.ERROR: Severity.ERROR,
    EventType.COMMAND_FAILED: Severity.ERROR,
    EventType.TEST_FAILED: Severity.ERROR,
    EventType.CHANGE_CONFLICT: Severity.WARNING,
    EventType.PAUSED_FOR_INPUT: Severity.WARNING,
    EventType.COMMAND_OUTPUT: Severity.DEBUG,
    EventType.FILE_READ: Severity.DEBUG,
    EventType.CONVERSATION_MESSAGE_ADDED: Severity.DEBUG,
    EventType.COMMAND_COMPLETED: Severity.SUCCESS,
    EventType.TEST_COMPLETED: Severity.SUCCESS,
    EventType.CHANGE_APPLIED: Severity.SUCCESS,
    EventType.CHANGE_APPROVED: Severity.SUCCESS,
    EventType.FINAL_SUMMARY: Severity.SUCCESS,
    EventType.SNAPSHOT_RESTORED: Severity.SUCCESS,
}


class EventBus:
    """Persists and fans out events of one project."""

    def __init__(self, store: Store, project_id: int, send: Sender) -> None:
        self.store = store
        self.project_id = project_id
        self._send = send
        self._listeners: list[Listener] = []
        self._pending: list[tuple[NewEvent, asyncio.Future[Event]]] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._tail: asyncio.Task[None] | None = None
        self._own_ids: set[int] = set()
        """Ids this daemon committed and delivered, so the tail skips them."""
        self._tail_cursor = 0
        self._delivering = asyncio.Lock()
        """Held from commit to delivery, so the tail never mistakes our events for theirs."""
        self.foreign_listeners: list[Listener] = []
        """Called for events other daemons committed (after they are forwarded)."""

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name="events")

    async def start_tailing(self, interval: float = TAIL_INTERVAL_S) -> None:
        """Forward events other daemons commit from now on."""
        self._tail_cursor = await self.store.events.latest_id(self.project_id)
        self._tail = asyncio.get_running_loop().create_task(
            self._tail_loop(interval), name="events-tail"
        )

    async def _tail_loop(self, interval: float) -> None:
        while True:
            # PostgreSQL wakes us once per batch another process commits (LISTEN/NOTIFY);
            # SQLite has no such thing, and this is a sleep.
            await self.store.events.wait_for_events(self.project_id, interval)
            async with self._delivering:
                try:
                    found = await self.store.events.list(
                        self.project_id, since=self._tail_cursor, limit=TAIL_BATCH
                    )
                except Exception:
                    log.exception("could not read events committed by other daemons")
                    continue
                for event in found:
                    if event.id in self._own_ids:
                        self._own_ids.discard(event.id)
                    else:
                        self._deliver(event)
                        self._notify_foreign(event)
                    self._tail_cursor = event.id

    def _notify_foreign(self, event: Event) -> None:
        for listener in list(self.foreign_listeners):
            try:
                listener(event)
            except Exception:
                log.exception("foreign event listener %r failed", listener)

    async def stop(self) -> None:
        """Flush what is queued, then stop the writer."""
        if self._writer is None:
            return
        while self._pending:
            self._wake.set()
            await asyncio.sleep(0.005)
        async with self._delivering:  # the batch taken last is committed and delivered
            pass
        for task in (self._writer, self._tail):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._writer = self._tail = None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` after each event is committed; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def emit(
        self,
        run_id: int | None,
        type: EventType,
        title: str,
        payload: Payload,
        *,
        message: str = "",
        severity: Severity | None = None,
    ) -> Event:
        """Record an event; returns it with its id once it is committed (and sent)."""
        new = self.new_event(run_id, type, title, payload, message=message, severity=severity)
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending.append((new, future))
        self._wake.set()
        if self._writer is None:
            raise RuntimeError("EventBus.start() was not called")
        return await future

    def new_event(
        self,
        run_id: int | None,
        type: EventType,
        title: str,
        payload: Payload,
        *,
        message: str = "",
        severity: Severity | None = None,
    ) -> NewEvent:
        return NewEvent(
            project_id=self.project_id,
            run_id=run_id,
            type=type,
            severity=severity or DEFAULT_SEVERITY.get(type, Severity.INFO),
            title=title,
            message=message,
            payload=encode_payload(type, payload),
            created_at=now_iso(),
        )

    async def record(
        self, write: Callable[[], Awaitable[tuple[T, Event] | None]]
    ) -> tuple[T, Event] | None:
        """Deliver the event that ``write()`` commits together with another change (a run's
        status and its ``run_status_changed``), in id order with every other event.

        ``write`` returns the change and the committed event, or None when it wrote nothing.
        """
        async with self._delivering:
            written = await write()
            if written is not None:
                self._delivered(written[1])
        return written

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            async with self._delivering:
                try:
                    events = await self.store.events.append([new for new, _ in batch])
                except LeaseLost as exc:  # refuse that run's events only; the others go on
                    log.warning("%s", exc)
                    for new, future in batch:
                        if new.run_id == exc.run_id and not future.done():
                            future.set_exception(exc)
                    self._pending[:0] = [(n, f) for n, f in batch if n.run_id != exc.run_id]
                    self._wake.set()
                    continue
                except Exception as exc:
                    log.exception("could not persist %d events", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for event, (_, future) in zip(events, batch, strict=True):
                    self._delivered(event)
                    if not future.done():
                        future.set_result(event)

    def _delivered(self, event: Event) -> None:
        """Send an event this daemon committed (and tell the tail it is ours)."""
        if self._tail is not None:
            self._own_ids.add(event.id)
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        try:
            self._send(Notifications.EVENT, EventNotification(event=event))
        except Exception:
            log.exception("could not send event %d", event.id)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener %r failed", listener)
