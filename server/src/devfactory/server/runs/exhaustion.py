"""``ExhaustionPauser``: a chat provider whose every account is rate limited pauses the run
(saying why) until the soonest account is rested or the user resumes, instead of failing it."""

from __future__ import annotations

from typing import Any, Protocol

from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import ErrorPayload, Payload

from ..agents.providers.base import AllAccountsExhausted


class Pausable(Protocol):
    """What the pauser needs of the run's worker."""

    async def emit(
        self, type: EventType, title: str, payload: Payload, *, message: str = "", **kw: Any
    ) -> Any: ...

    async def pause_until_resumed(self, reason: str, wake_after: float | None = None) -> None: ...


class ExhaustionPauser:
    """Wraps a chat provider: when every account is rate limited, the run pauses with the
    reason (and wakes when the soonest account is rested, or on resume) instead of failing."""

    def __init__(self, provider: Any, worker: Pausable) -> None:
        self.provider = provider
        self.worker = worker
        self.name = provider.name
        self.model = provider.model

    async def complete(self, messages: Any, tools: Any, on_text: Any) -> Any:
        while True:
            try:
                return await self.provider.complete(messages, tools, on_text)
            except AllAccountsExhausted as exc:
                reason = f"every {self.name} account is rate limited: {exc}"
                await self.worker.emit(
                    EventType.ERROR,
                    "Rate limited",
                    ErrorPayload(message=reason),
                    message=reason,
                    severity=Severity.WARNING,
                )
                await self.worker.pause_until_resumed(reason, wake_after=exc.retry_after)
