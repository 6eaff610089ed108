"""Ports of a run's aggregate: the run, its append-only events, the questions it asks."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, Unpack

from devfactory.protocol.enums import HitlAction, HitlStatus, RunStatus
from devfactory.protocol.events import Event
from devfactory.protocol.hitl import HitlRequest
from devfactory.protocol.runs import Run, RunMetadata, TokenUsage

from .rows import NewEvent, NewRun, RunFields


class RunRepository(Protocol):
    """Runs, with compare-and-set updates: several daemons may serve one workspace."""

    async def create(
        self,
        *,
        project_id: int,
        title: str,
        prompt: str,
        status: RunStatus,
        agent: str,
        provider: str,
        model: str | None,
        mode: str,
        metadata: RunMetadata,
        retry_of: int | None = None,
    ) -> Run: ...

    async def create_recorded(
        self, new: NewRun, *, branch: Callable[[int], str], event: NewEvent
    ) -> tuple[Run, Event]:
        """Insert a run, name its branch (``branch(run_id)``) and record its first event (for
        the new run) in one transaction: a crash or a cancellation leaves all or nothing."""
        ...

    async def get(self, run_id: int) -> Run | None: ...

    async def list(
        self, project_id: int, statuses: Iterable[RunStatus] | None = None, limit: int = 50
    ) -> builtins.list[Run]:
        """Newest first; all statuses when ``statuses`` is empty or None."""
        ...

    async def total_usage(self, project_id: int) -> TokenUsage:
        """Tokens and cost of every run of the project (``cost_usd`` null when none had one)."""
        ...

    async def queued(self, project_id: int) -> builtins.list[Run]:
        """Queued runs, first in first out."""
        ...

    async def update(
        self, run_id: int, *, expect_status: RunStatus | None = None, **fields: Unpack[RunFields]
    ) -> Run | None:
        """Set fields of a run; returns the new record (None: no such run).

        With ``expect_status`` the update is a compare-and-set: it happens only if the run is
        still in that status (another daemon may have claimed it), else None is returned.
        """
        ...

    async def transition(
        self, run_id: int, *, expect_status: RunStatus, event: NewEvent, **fields: Unpack[RunFields]
    ) -> tuple[Run, Event] | None:
        """A compare-and-set :meth:`update` and the event that records it, in one transaction:
        both are written, or neither (None: the run is no longer in ``expect_status``)."""
        ...

    async def owner(self, run_id: int) -> str | None:
        """The daemon that drives the run (its lock file), if any."""
        ...


class EventRepository(Protocol):
    """The append-only event log: ids only grow, so clients replay with ``since``."""

    async def append(self, events: Sequence[NewEvent]) -> builtins.list[Event]:
        """Commit a batch of events in one transaction; return them with their ids, in order."""
        ...

    async def list(
        self,
        project_id: int,
        *,
        run_id: int | None = None,
        since: int = 0,
        limit: int = 1000,
        initiative_id: int | None = None,
    ) -> builtins.list[Event]:
        """Events with ``id > since``, oldest first: one run's, one initiative's (the events
        whose payload names it: ``initiative_*``, ``phase_*``, ``task_*``...), or the whole
        project's."""
        ...

    async def wait_for_events(self, project_id: int, timeout: float) -> bool:
        """Wait until events of ``project_id`` may have been committed by another connection
        (PostgreSQL: a LISTEN/NOTIFY wake-up, once per appended batch), at most ``timeout``
        seconds; whether it was woken. The events table stays the record: read it after."""
        ...

    async def latest_id(self, project_id: int) -> int:
        """The id of the project's newest event, 0 if it has none."""
        ...


class HitlRepository(Protocol):
    """Questions runs ask the user, and the answers."""

    async def create(
        self,
        run_id: int,
        question: str,
        choices: builtins.list[str],
        tool_call_id: str | None = None,
        *,
        kind: str = "question",
    ) -> HitlRequest:
        """``kind``: question, or plan (``question`` holds a plan to approve, edit or reject)."""
        ...

    async def get(self, request_id: int) -> HitlRequest | None: ...

    async def answer(
        self, request_id: int, action: HitlAction, text: str | None
    ) -> HitlRequest: ...

    async def cancel_pending(self, run_id: int) -> None:
        """Mark the run's unanswered questions cancelled."""
        ...

    async def list(
        self, project_id: int, run_id: int | None = None, status: HitlStatus | None = None
    ) -> builtins.list[HitlRequest]:
        """Oldest first."""
        ...
