"""A run driven by an external agent (claude_code, local_shell): one task per iteration.

The conversation is kept as for chat runs (the task, each follow-up or review feedback, and
what the agent reported), so a follow-up reaches an agent that keeps no session of its own
with everything before it; claude_code resumes its own session instead. The worktree is
checkpointed after each iteration, so a rewind can go back to it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

from devfactory.protocol.enums import EventType, OutputStream
from devfactory.protocol.events import AiMessage, CommandOutput
from devfactory.protocol.runs import Run

from ..agents.loop import LoopResult, RunHandle
from ..agents.providers.base import AutonomousProvider, AutonomousTask, Message, ProviderError
from .chat import REVIEW_FEEDBACK, autonomous_prompt, awaits_review_feedback, task_prompt
from .context import RunContext
from .conversation import load_conversation


class AutonomousWorker(RunHandle, Protocol):
    """What an autonomous run needs of its worker: the loop's handle, its context and its
    record."""

    context: RunContext
    run: Run

    async def update(self, **fields: Any) -> Run: ...


async def work_autonomously(
    worker: AutonomousWorker, run: Run, provider: AutonomousProvider, worktree: Path
) -> LoopResult:
    async def on_output(stream: str, text: str) -> None:
        await worker.emit(
            EventType.COMMAND_OUTPUT,
            f"{provider.name} output",
            CommandOutput(stream=OutputStream(stream), text=text),
            message=text,
        )

    async def on_message(text: str) -> None:
        worker.stream(text)
        await worker.emit(EventType.AI_MESSAGE, "Assistant", AiMessage(text=text), message=text)

    store, project_id = worker.context.store, worker.context.project_id
    stored = await load_conversation(store, project_id, run.id)
    if not stored.messages:
        await worker.remember(0, Message(role="user", content=task_prompt(run)))
    elif stored.started and awaits_review_feedback(run, stored):
        feedback = f"{REVIEW_FEEDBACK}\n{run.metadata.followup}"
        await worker.remember(stored.next_step, Message(role="user", content=feedback))
    stored = await load_conversation(store, project_id, run.id)
    step = stored.next_step
    task = AutonomousTask(
        run_id=run.id,
        prompt=autonomous_prompt(run, stored, getattr(provider, "resumes_sessions", False)),
        worktree=worktree,
        model=run.model,
        resume_session_id=run.metadata.provider_session_id,
    )
    result = await provider.run_task(task, on_output, on_message, asyncio.Event())
    metadata = worker.run.metadata
    metadata.provider_session_id = result.session_id
    await worker.update(metadata=metadata, current_step=step)
    await worker.add_usage(result.usage)
    await worker.remember(step, Message(role="assistant", content=result.summary))
    await worker.step_done(step)
    if result.exit_code not in (None, 0):
        raise ProviderError(
            f"{provider.name} exited with code {result.exit_code}: {result.summary}"
        )
    return LoopResult(summary=result.summary, plan="", steps=step)
