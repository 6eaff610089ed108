"""What a run's model is told when its worker takes it up: the system prompt with the
project rules, the conversation so far (the task on a fresh run, the review feedback of a
new iteration) and the context window to fit it in; and the prompt an autonomous provider
(claude_code, local_shell) gets for a follow-up.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import ContextLoaded, ContextTruncated
from devfactory.protocol.runs import Run
from devfactory.protocol.settings import Settings
from devfactory.storage import Store

from ..agents.context import load_context
from ..agents.loop import ContextLimit, Conversation, RunHandle
from ..agents.pricing import PriceTable
from ..agents.providers.base import Message
from ..agents.roles import Role
from ..agents.rules import ScopedRules, load_catalog, touched_paths
from .conversation import StoredConversation, load_conversation

REVIEW_FEEDBACK = "# Review feedback to address"


@dataclass
class ChatSetup:
    system_prompt: str
    rules: ScopedRules
    limit: ContextLimit
    conversation: Conversation


def task_prompt(run: Run) -> str:
    """The prompt of this iteration: the task, plus the review feedback that sent it back."""
    if run.metadata.iteration > 1 and run.metadata.followup:
        return f"{run.prompt}\n\n{REVIEW_FEEDBACK}\n{run.metadata.followup}"
    return run.prompt


async def prepare_chat(
    *,
    handle: RunHandle,
    run: Run,
    role: Role,
    worktree: Path,
    settings: Settings,
    store: Store,
    project_id: int,
    search: Any,
) -> ChatSetup:
    stored = await load_conversation(store, project_id, run.id)
    if not stored.started:
        context = await load_context(
            emit=handle.emit,
            worktree=worktree,
            prompt=run.prompt,
            rag=run.metadata.rag,
            search=search,
        )
        if not stored.messages:  # a run created before conversations were kept
            task = f"{context}\n\n# Task\n{task_prompt(run)}".strip()
            await handle.remember(0, Message(role="user", content=task))
        elif context:
            await handle.remember(0, Message(role="user", content=context))
    elif awaits_review_feedback(run, stored):
        feedback = f"{REVIEW_FEEDBACK}\n{run.metadata.followup}"
        await handle.remember(stored.next_step, Message(role="user", content=feedback))
    stored = await load_conversation(store, project_id, run.id)
    history = stored.history

    agent = settings.agent
    catalog = await asyncio.to_thread(load_catalog, worktree, agent.instructions)
    rules = ScopedRules(catalog, agent.rules_max_chars)
    rendered = rules.system_rules(touched_paths(history))
    if rendered.files:
        await handle.emit(
            EventType.AI_CONTEXT_LOADED,
            "Project rules: " + ", ".join(f.path for f in rendered.files),
            ContextLoaded(files=[f.path for f in rendered.files], rules=rendered.files),
        )
    if warnings := catalog.warnings + rendered.warnings:
        await handle.emit(
            EventType.CONTEXT_TRUNCATED,
            "Project rules cut or refused",
            ContextTruncated(what="rules", details=warnings),
            message="\n".join(warnings),
            severity=Severity.WARNING,
        )
    system = role.system_prompt + (f"\n\n{rendered.text}" if rendered.text else "")
    prices = PriceTable(agent.models, agent.default_context_window)
    return ChatSetup(
        system_prompt=system,
        rules=rules,
        limit=ContextLimit(prices.context_window(run.model), agent.compact_at),
        conversation=Conversation(
            history=history,
            first_step=stored.next_step,
            plan_mode=run.metadata.plan_mode,
            plan_approved=run.metadata.plan_approved,
            plan=run.metadata.plan,
        ),
    )


def awaits_review_feedback(run: Run, stored: StoredConversation) -> bool:
    """A review sent the run back and its feedback is not in the conversation yet."""
    if run.metadata.iteration <= 1 or not run.metadata.followup:
        return False
    return not stored.messages or stored.messages[-1][1].role != "user"


def autonomous_prompt(run: Run, stored: StoredConversation, resumes_sessions: bool) -> str:
    """What an external agent is asked this time. The first time: the task. Later (a
    follow-up, review feedback): claude_code resumes its own session and gets only the new
    message(s); an agent that keeps no session (local_shell) gets the task, what it reported
    before and the new message(s)."""
    if not stored.started:
        return task_prompt(run)
    last_answer = max(i for i, (_, m) in enumerate(stored.messages) if m.role == "assistant")
    new = [m.content for _, m in stored.messages[last_answer + 1 :] if m.role == "user"]
    latest = "\n\n".join(new)
    if resumes_sessions and run.metadata.provider_session_id:
        return latest
    earlier = [
        f"## {'You reported' if m.role == 'assistant' else 'The user said'}\n{m.content}"
        for _, m in stored.messages[1 : last_answer + 1]
        if m.role in ("user", "assistant")
    ]
    return (
        f"{stored.messages[0][1].content}\n\n# Earlier in this conversation\n"
        + "\n\n".join(earlier)
        + f"\n\n# The user's follow-up\n{latest}"
    )
