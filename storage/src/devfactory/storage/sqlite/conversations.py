"""The ``conversations``, ``chat_sessions`` and ``chat_messages`` tables: questions agents
ask each other through the orchestrator, and the user's chats with an agent."""

from __future__ import annotations

import builtins
from typing import Any

from devfactory.protocol.enums import AgentRole, ConversationStatus
from devfactory.protocol.proposals import ChatMessage, ChatSession, Conversation

from ..clock import now_iso
from ..codec import row_to
from .database import Database


class SqliteConversationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- agent to agent ------------------------------------------------------------------------

    async def ask(
        self, initiative_id: int, from_task_id: int | None, to_task_id: int, question: str
    ) -> Conversation:
        conversation_id = await self.db.execute(
            "INSERT INTO conversations (initiative_id, from_task_id, to_task_id, question,"
            " status, created_at) VALUES (?,?,?,?,?,?)",
            (
                initiative_id,
                from_task_id,
                to_task_id,
                question,
                ConversationStatus.PENDING.value,
                now_iso(),
            ),
        )
        found = await self.get(conversation_id)
        assert found is not None
        return found

    async def get(self, conversation_id: int) -> Conversation | None:
        row = await self.db.fetchone("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        return None if row is None else row_to(Conversation, row)

    async def list(self, initiative_id: int) -> builtins.list[Conversation]:
        rows = await self.db.fetchall(
            "SELECT * FROM conversations WHERE initiative_id = ? ORDER BY id", (initiative_id,)
        )
        return [row_to(Conversation, row) for row in rows]

    async def set_answer_run(self, conversation_id: int, run_id: int) -> None:
        await self.db.execute(
            "UPDATE conversations SET answer_run_id = ? WHERE id = ?", (run_id, conversation_id)
        )

    async def close(
        self, conversation_id: int, status: ConversationStatus, answer: str | None
    ) -> Conversation | None:
        changed = await self.db.update(
            "UPDATE conversations SET status = ?, answer = ?, answered_at = ?"
            " WHERE id = ? AND status = 'pending'",
            (status.value, answer, now_iso(), conversation_id),
        )
        return await self.get(conversation_id) if changed else None

    # -- chats ---------------------------------------------------------------------------------

    async def start_chat(
        self, initiative_id: int, phase_id: int | None, task_id: int | None, agent: AgentRole
    ) -> ChatSession:
        session_id = await self.db.execute(
            "INSERT INTO chat_sessions (initiative_id, phase_id, task_id, agent, created_at)"
            " VALUES (?,?,?,?,?)",
            (initiative_id, phase_id, task_id, agent.value, now_iso()),
        )
        found = await self.chat(session_id)
        assert found is not None
        return found

    async def add_message(
        self, session_id: int, role: str, text: str, run_id: int | None = None
    ) -> ChatMessage:
        now = now_iso()
        await self.db.execute(
            "INSERT INTO chat_messages (session_id, role, text, run_id, created_at)"
            " VALUES (?,?,?,?,?)",
            (session_id, role, text, run_id, now),
        )
        return ChatMessage(role=role, text=text, run_id=run_id, created_at=now)

    async def chat(self, session_id: int) -> ChatSession | None:
        row = await self.db.fetchone("SELECT * FROM chat_sessions WHERE id = ?", (session_id,))
        if row is None:
            return None
        messages = await self.db.fetchall(
            "SELECT * FROM chat_messages WHERE session_id = ? ORDER BY id", (session_id,)
        )
        return row_to(ChatSession, row, messages=[_message(m) for m in messages])

    async def chats(self, initiative_id: int) -> builtins.list[ChatSession]:
        rows = await self.db.fetchall(
            "SELECT id FROM chat_sessions WHERE initiative_id = ? ORDER BY id", (initiative_id,)
        )
        found = [await self.chat(row["id"]) for row in rows]
        return [session for session in found if session is not None]


def _message(row: Any) -> ChatMessage:
    return row_to(ChatMessage, row)
