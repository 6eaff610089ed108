"""``ExhaustionPauser``: a chat provider whose every account is rate limited pauses the run
(saying why) until the soonest account is rested or the user resumes, instead of failing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import ErrorPayload

from ..agents.providers.base import AllAccountsExhausted

if TYPE_CHECKING:
    from .worker import RunWorker


class ExhaustionPauser:
    """Wraps a chat provider: when every account is rate limited, the run pauses with the
    reason (and wakes when the soonest account is rested, or on resume) instead of failing."""

    def __init__(self, provider: Any, worker: RunWorker) -> None:
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
