"""The ``conversations``, ``chat_sessions`` and ``chat_messages`` tables: questions agents
ask each other through the orchestrator, and the user's chats with an agent."""

from __future__ import annotations

import builtins

from psycopg.rows import DictRow

from devfactory.protocol.enums import AgentRole, ConversationStatus
from devfactory.protocol.proposals import ChatMessage, ChatSession, Conversation

from ..clock import now_iso
from ..codec import load, row_to
from .database import Database

_CHATS = (
    "SELECT s.*, coalesce((SELECT jsonb_agg(jsonb_build_object('role', m.role, 'text', m.text,"
    " 'runId', m.run_id, 'createdAt', m.created_at) ORDER BY m.id) FROM chat_messages m"
    " WHERE m.session_id = s.id), '[]') AS messages FROM chat_sessions s"
)
"""Sessions with their messages (oldest first, as JSON in the protocol's names), in one
statement."""


def _chat(row: DictRow) -> ChatSession:
    return row_to(ChatSession, row, messages=load(row["messages"], list[ChatMessage]))


class PostgresConversationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- agent to agent ------------------------------------------------------------------------

    async def ask(
        self, initiative_id: int, from_task_id: int | None, to_task_id: int, question: str
    ) -> Conversation:
        row = await self.db.returning(
            "INSERT INTO conversations (initiative_id, from_task_id, to_task_id, question,"
            " status, created_at) VALUES (%s,%s,%s,%s,%s,%s) RETURNING *",
            (
                initiative_id,
                from_task_id,
                to_task_id,
                question,
                ConversationStatus.PENDING.value,
                now_iso(),
            ),
        )
        return row_to(Conversation, row)

    async def get(self, conversation_id: int) -> Conversation | None:
        row = await self.db.fetchone(
            "SELECT * FROM conversations WHERE id = %s", (conversation_id,)
        )
        return None if row is None else row_to(Conversation, row)

    async def list(self, initiative_id: int) -> builtins.list[Conversation]:
        rows = await self.db.fetchall(
            "SELECT * FROM conversations WHERE initiative_id = %s ORDER BY id", (initiative_id,)
        )
        return [row_to(Conversation, row) for row in rows]

    async def set_answer_run(self, conversation_id: int, run_id: int) -> None:
        await self.db.execute(
            "UPDATE conversations SET answer_run_id = %s WHERE id = %s", (run_id, conversation_id)
        )

    async def close(
        self, conversation_id: int, status: ConversationStatus, answer: str | None
    ) -> Conversation | None:
        row = await self.db.returning(
            "UPDATE conversations SET status = %s, answer = %s, answered_at = %s"
            " WHERE id = %s AND status = 'pending' RETURNING *",
            (status.value, answer, now_iso(), conversation_id),
        )
        return None if row is None else row_to(Conversation, row)

    # -- chats ---------------------------------------------------------------------------------

    async def start_chat(
        self, initiative_id: int, phase_id: int | None, task_id: int | None, agent: AgentRole
    ) -> ChatSession:
        row = await self.db.returning(
            "INSERT INTO chat_sessions (initiative_id, phase_id, task_id, agent, created_at)"
            " VALUES (%s,%s,%s,%s,%s) RETURNING *",
            (initiative_id, phase_id, task_id, agent.value, now_iso()),
        )
        return row_to(ChatSession, row, messages=[])

    async def add_message(
        self, session_id: int, role: str, text: str, run_id: int | None = None
    ) -> ChatMessage:
        row = await self.db.returning(
            "INSERT INTO chat_messages (session_id, role, text, run_id, created_at)"
            " VALUES (%s,%s,%s,%s,%s) RETURNING *",
            (session_id, role, text, run_id, now_iso()),
        )
        return row_to(ChatMessage, row)

    async def chat(self, session_id: int) -> ChatSession | None:
        row = await self.db.fetchone(_CHATS + " WHERE s.id = %s", (session_id,))
        return None if row is None else _chat(row)

    async def chats(self, initiative_id: int) -> builtins.list[ChatSession]:
        rows = await self.db.fetchall(
            _CHATS + " WHERE s.initiative_id = %s ORDER BY s.id", (initiative_id,)
        )
        return [_chat(row) for row in rows]
