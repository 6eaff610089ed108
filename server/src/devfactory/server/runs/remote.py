"""``RemoteRuns``: the controls of a run a team worker drives, from a daemon that does not.

The daemon has no ``RunWorker`` for such a run; it acts through the database. A pause is a
request the worker reads as it renews the run's lease (the worker pauses at its next step and
its segment ends); a directive is kept with the run, and the worker reads it at its next step. A
resume queues the run again: its next segment is a job, committed with the status. An answer
to the model's ``ask_user`` question is recorded as that tool call's result in the run's
conversation, and the run is queued for its next segment, which goes on from there; other
questions (a plan, a command to allow) are waited for by the worker, which reads the answer
from the database. A cancel moves the lease's epoch on first, so the worker's next write is
refused and it stops.
"""

from __future__ import annotations

from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.events import Resumed
from devfactory.protocol.hitl import HitlRequest, HitlRespondParams
from devfactory.protocol.runs import Run
from devfactory.storage.ports import LeaseRepository

from ..agents.providers.base import Message
from .context import RunContext
from .conversation import load_conversation, to_payload
from .lookup import project_run
from .ports import RunRecord
from .segment import answer_text

S = RunStatus
ASK_USER = "ask_user"


class RemoteRuns:
    def __init__(self, context: RunContext, record: RunRecord, leases: LeaseRepository) -> None:
        self.context = context
        self.record = record
        self.leases = leases

    async def pause(self, run: Run) -> Run:
        await self.leases.request_pause(run.id)
        return run

    async def resume(self, run: Run) -> Run:
        metadata = run.metadata
        metadata.pause_reason = None
        return await self.record.transition(run.id, S.QUEUED, reason="resumed", metadata=metadata)

    async def cancel(self, run_id: int) -> None:
        await self.leases.revoke(run_id)

    async def directive(self, run: Run, text: str) -> None:
        await self.leases.send_directive(run.id, text)

    async def respond(self, request: HitlRequest, params: HitlRespondParams) -> HitlRequest:
        store = self.context.store
        answered = await store.hitl.answer(request.id, params.action, params.text)
        run = await project_run(store, self.context.project_id, request.run_id)
        step_and_call = await self._asked(run, request)
        if run.status is not S.WAITING_FOR_USER or step_and_call is None:
            return answered  # the worker waits for it in its segment, and reads it
        step, call_id = step_and_call
        events = self.context.events
        result = Message(
            role="tool", content=answer_text(answered), tool_call_id=call_id, name=ASK_USER
        )
        await events.emit(run.id, EventType.CONVERSATION_MESSAGE_ADDED, "Tool message",
                          to_payload(step, result))  # fmt: skip
        await events.emit(
            run.id,
            EventType.RESUMED,
            "Answer received",
            Resumed(request_id=answered.id, action=answered.response_action,
                    text=answered.response_text),
            message=answered.response_text or "",
        )  # fmt: skip
        await self.record.transition(run.id, S.QUEUED, reason="answered")
        return answered

    async def _asked(self, run: Run, request: HitlRequest) -> tuple[int, str] | None:
        """(step, tool call id) of the ``ask_user`` call that asked ``request``, if the run's
        segment ended on it (the call still has no result)."""
        stored = await load_conversation(self.context.store, run.project_id, run.id)
        answered = {m.tool_call_id for _, m in stored.messages if m.role == "tool"}
        for step, message in reversed(stored.messages):
            if message.role != "assistant":
                continue
            for call in message.tool_calls:
                if (
                    call.name == ASK_USER
                    and call.id not in answered
                    and str(call.arguments.get("question", "")) == request.question
                ):
                    return step, call.id
            return None
        return None
