"""Agents talking: ``ask_agent`` (one task's agent asks another's, through the orchestrator)
and chats (``devfactory/chat/*``: the user refines a phase or task with an agent, whose edits
arrive as proposals); ``devfactory/conversations/*`` lists the questions and lets the user
answer one in the asked agent's place.

The asked agent answers in one model turn with its task's context (its description, summary
and the handoffs), outside any run, so a question never waits for a free run slot. Every
question, answer and chat message is recorded as an event.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from devfactory.protocol.enums import (
    ConversationStatus,
    EventType,
    ProposalAction,
    ProposalTarget,
)
from devfactory.protocol.factory_events import ChatMessageEvent, ConversationEvent
from devfactory.protocol.initiatives import Initiative
from devfactory.protocol.proposals import (
    ChatSendParams,
    ChatSession,
    ChatStartParams,
    Conversation,
    ConversationAnswerParams,
)
from devfactory.protocol.tasks import Task

from ..agents.arguments import check_arguments
from ..agents.providers.base import Message, ProviderError, ToolCall
from ..agents.roles import ROLES
from ..agents.tools import ToolError
from ..errors import InvalidParams, InvalidState, NotFound
from .context import FactoryContext
from .handoffs import render
from .planning import ProposalDraft
from .proposals import NotAccepted, ProposalService
from .records import FactoryRecords
from .tools import PROPOSE

log = logging.getLogger(__name__)
MAX_CHAT_STEPS = 6
MAX_MESSAGE = 20_000


class Conversations:
    def __init__(
        self, context: FactoryContext, records: FactoryRecords, proposals: ProposalService
    ) -> None:
        self.context = context
        self.records = records
        self.proposals = proposals
        self.store = context.store
        self._waiting: dict[int, asyncio.Future[str]] = {}
        """Questions no model could answer, waiting for the user's answer."""

    # -- agent to agent ------------------------------------------------------------------------

    async def ask(
        self, initiative: Initiative, asker: Task | None, to_task: int, question: str
    ) -> str:
        """The answer of task ``to_task``'s agent (what the asking agent's tool returns)."""
        target = await self.store.tasks.get(to_task)
        if target is None or target.initiative_id != initiative.id:
            return f"error: no task {to_task} in this initiative; ask one named in your prompt"
        conversation = await self.store.conversations.ask(
            initiative.id, asker.id if asker else None, target.id, question
        )
        await self._event(
            EventType.CONVERSATION_ASKED, conversation, f"Question for task {target.id}"
        )
        try:
            answer = await self._answer(initiative, target, question)
        except ProviderError as exc:
            log.info("conversation %d waits for the user: %s", conversation.id, exc)
            future = self._waiting[conversation.id] = asyncio.get_running_loop().create_future()
            try:
                answered: str = await future
                return answered
            finally:
                self._waiting.pop(conversation.id, None)
        closed = await self.store.conversations.close(
            conversation.id, ConversationStatus.ANSWERED, answer
        )
        if closed is None:  # the user answered first
            found = await self.store.conversations.get(conversation.id)
            return (found.answer if found else None) or answer
        await self._event(EventType.CONVERSATION_ANSWERED, closed, f"Task {target.id} answered")
        return answer

    async def _answer(self, initiative: Initiative, task: Task, question: str) -> str:
        role = ROLES[task.agent]
        handoffs = [
            render(a.name, a.content) for a in await self.store.proposals.artifacts(initiative.id)
        ]
        context = "\n\n".join(
            [
                f"Task {task.id}: {task.title}",
                task.description,
                f"What you did: {task.summary}" if task.summary else "You have not finished yet.",
                *handoffs,
            ]
        )
        messages = [
            Message(
                role="system",
                content=f"You are DevFactory's {role.name.value} agent of task {task.id} in the "
                f"initiative {initiative.name!r}. {role.focus} Another agent asks you a question "
                "about your task: answer it briefly and precisely.",
            ),
            Message(role="user", content=f"{context}\n\n# Question for task {task.id}\n{question}"),
        ]
        provider = initiative.provider or self.context.settings.default_provider
        async with self.context.models.open(provider, initiative.model) as model:
            turn = await model.complete(messages, [])
        return turn.text.strip() or "(no answer)"

    async def answer(self, params: ConversationAnswerParams) -> Conversation:
        conversation = await self.store.conversations.get(params.conversation_id)
        if conversation is None:
            raise NotFound("conversation", params.conversation_id)
        await self.records.initiative(conversation.initiative_id)
        text = params.text.strip()
        if not text:
            raise InvalidParams("text must not be empty")
        closed = await self.store.conversations.close(
            conversation.id, ConversationStatus.ANSWERED, text
        )
        if closed is None:
            raise InvalidState(
                f"conversation {conversation.id} is already {conversation.status.value}"
            )
        await self._event(EventType.CONVERSATION_ANSWERED, closed, "Answered by the user")
        if (future := self._waiting.get(conversation.id)) is not None and not future.done():
            future.set_result(text)
        return closed

    async def _event(self, type: EventType, conversation: Conversation, title: str) -> None:
        await self.context.events.emit(
            None,
            type,
            title,
            ConversationEvent(
                initiative_id=conversation.initiative_id,
                conversation_id=conversation.id,
                from_task_id=conversation.from_task_id,
                to_task_id=conversation.to_task_id,
                question=conversation.question,
                answer=conversation.answer,
            ),
            message=conversation.answer or conversation.question,
        )

    # -- chats ---------------------------------------------------------------------------------

    async def start_chat(self, params: ChatStartParams) -> ChatSession:
        initiative = await self.records.initiative(params.initiative_id)
        for field, ident, load in (
            ("phaseId", params.phase_id, self.store.initiatives.get_phase),
            ("taskId", params.task_id, self.store.tasks.get),
        ):
            if ident is None:
                continue
            found: Any = await load(ident)
            if found is None or found.initiative_id != initiative.id:
                raise InvalidParams(
                    f"{field}: no {field[:-2]} {ident} in initiative {initiative.id}"
                )
        return await self.store.conversations.start_chat(
            initiative.id, params.phase_id, params.task_id, params.agent
        )

    async def chat(self, session_id: int) -> ChatSession:
        session = await self.store.conversations.chat(session_id)
        if session is None:
            raise NotFound("chat session", session_id)
        await self.records.initiative(session.initiative_id)
        return session

    async def send(self, params: ChatSendParams) -> ChatSession:
        session = await self.chat(params.session_id)
        text = params.text.strip()
        if not text:
            raise InvalidParams("text must not be empty")
        if len(text) > MAX_MESSAGE:
            raise InvalidParams(f"text is {len(text)} characters; the limit is {MAX_MESSAGE}")
        initiative = await self.records.initiative(session.initiative_id)
        await self._said(session, "user", text)
        session = await self.chat(session.id)
        reply = await self._reply(initiative, session)
        await self._said(session, "agent", reply)
        return await self.chat(session.id)

    async def _said(self, session: ChatSession, role: str, text: str) -> None:
        await self.store.conversations.add_message(session.id, role, text)
        await self.context.events.emit(
            None,
            EventType.CHAT_MESSAGE,
            "You" if role == "user" else f"{session.agent.value.capitalize()} agent",
            ChatMessageEvent(
                initiative_id=session.initiative_id, session_id=session.id, role=role, text=text
            ),
            message=text,
        )

    async def _reply(self, initiative: Initiative, session: ChatSession) -> str:
        messages = [
            Message(role="system", content=await self._chat_context(initiative, session)),
            *(
                Message(role="user" if m.role == "user" else "assistant", content=m.text)
                for m in session.messages
            ),
        ]
        provider = initiative.provider or self.context.settings.default_provider
        try:
            async with self.context.models.open(provider, initiative.model) as model:
                for _ in range(MAX_CHAT_STEPS):
                    turn = await model.complete(messages, [PROPOSE])
                    if not turn.tool_calls:
                        return turn.text.strip() or "(no reply)"
                    messages.append(
                        Message(role="assistant", content=turn.text, tool_calls=turn.tool_calls)
                    )
                    for call in turn.tool_calls:
                        result = await self._tool(initiative, session, call)
                        messages.append(
                            Message(
                                role="tool", content=result, tool_call_id=call.id, name=call.name
                            )
                        )
        except ProviderError as exc:
            return f"(the {provider} provider cannot chat: {exc})"
        return "(the agent kept proposing without replying; see its proposals)"

    async def _tool(self, initiative: Initiative, session: ChatSession, call: ToolCall) -> str:
        if call.name != PROPOSE.name:
            return f"error: unknown tool {call.name!r}; you can only propose"
        return await proposal_from_tool(
            self.proposals, initiative, call.arguments, chat_session_id=session.id
        )

    async def _chat_context(self, initiative: Initiative, session: ChatSession) -> str:
        role = ROLES[session.agent]
        about = f"the initiative {initiative.name!r}: {initiative.goal}"
        if session.task_id is not None:
            task = await self.records.task(session.task_id)
            about = f"task {task.id} ({task.title}, {task.agent.value}): {task.description}"
        elif session.phase_id is not None:
            phase = await self.records.phase(session.phase_id)
            about = f"phase {phase.id} ({phase.name}): {phase.description}"
        return (
            f"You are DevFactory's {role.name.value} agent. {role.focus} You refine {about} "
            "with the user. To change the plan, call propose (the user accepts or dismisses "
            "each proposal); then reply briefly."
        )


async def proposal_from_tool(
    proposals: ProposalService,
    initiative: Initiative,
    args: dict[str, Any],
    *,
    run_id: int | None = None,
    chat_session_id: int | None = None,
) -> str:
    """The ``propose`` tool: a proposal from an agent's arguments; what the agent reads.

    The arguments are the model's (a chat's are not checked on the way, as a run's are):
    whatever does not fit the tool's schema, or names another initiative's phase or task,
    is an error the model reads, and nothing is stored."""
    try:
        check_arguments(PROPOSE, args)
    except ToolError as exc:
        return f"error: {exc}"
    try:
        target = ProposalTarget(str(args.get("target")))
        action = ProposalAction(str(args.get("action")))
    except ValueError:
        return "error: target must be phase, task or page and action create or update"
    title = str(args.get("title") or "").strip()
    if not title:
        return "error: title must not be empty"
    draft = ProposalDraft(
        target,
        title,
        summary=str(args.get("summary") or ""),
        content=str(args.get("content") or ""),
        metadata=dict(args.get("metadata") or {}),
        action=action,
    )
    phase_id, task_id = args.get("phase_id"), args.get("task_id")
    try:
        proposal = await proposals.create(
            initiative,
            draft,
            source_run_id=run_id,
            chat_session_id=chat_session_id,
            phase_id=phase_id if isinstance(phase_id, int) else None,
            task_id=task_id if isinstance(task_id, int) else None,
        )
    except InvalidParams as exc:
        return f"error: {exc}"
    except NotAccepted as exc:
        waiting = exc.proposal
        return (
            f"proposal {waiting.id} ({waiting.status.value}): {waiting.title} - not accepted: {exc}"
        )
    return f"proposal {proposal.id} ({proposal.status.value}): {proposal.title}"
