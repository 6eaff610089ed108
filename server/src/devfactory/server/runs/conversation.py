"""A run's conversation with the model, kept as ``conversation_message_added`` events.

The events table is the truth: the conversation is rebuilt by replaying a run's events, so a
follow-up (``devfactory/runs/message``), a review iteration or a daemon restart continues it
as it was, and a ``run_rewound`` event cuts the messages of the steps after its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from devfactory.protocol.enums import EventType
from devfactory.protocol.events import (
    ConversationMessageAdded,
    ConversationToolCall,
    RunRewound,
    decode_payload,
)
from devfactory.storage import Store

from ..agents.providers.base import Message, ToolCall

PAGE = 1000
INTERRUPTED = "error: the run stopped before this call finished"


def to_payload(step: int, message: Message) -> ConversationMessageAdded:
    return ConversationMessageAdded(
        step=step,
        role=message.role,
        content=message.content,
        tool_calls=[
            ConversationToolCall(id=c.id, name=c.name, arguments=c.arguments)
            for c in message.tool_calls
        ],
        tool_call_id=message.tool_call_id,
        name=message.name,
        paths=message.paths,
    )


def to_message(payload: ConversationMessageAdded) -> Message:
    role = payload.role if payload.role in ("user", "assistant", "tool") else "user"
    return Message(
        role=role,  # type: ignore[arg-type]
        content=payload.content,
        tool_calls=[
            ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in payload.tool_calls
        ],
        tool_call_id=payload.tool_call_id,
        name=payload.name,
        paths=payload.paths,
    )


@dataclass
class StoredConversation:
    messages: list[tuple[int, Message]]
    """Every message with its step, oldest first (rewound steps left out)."""

    @property
    def history(self) -> list[Message]:
        """The messages, each tool call answered (a run that stopped mid-step left some
        without a result, which every API refuses)."""
        answered = {m.tool_call_id for _, m in self.messages if m.role == "tool"}
        out: list[Message] = []
        for _, message in self.messages:
            out.append(message)
            for call in message.tool_calls:
                if call.id not in answered:
                    out.append(
                        Message(
                            role="tool", content=INTERRUPTED, tool_call_id=call.id, name=call.name
                        )
                    )
        return out

    @property
    def last_step(self) -> int:
        return max((step for step, _ in self.messages), default=0)

    @property
    def next_step(self) -> int:
        """The number of the next step: after the last one the model answered in."""
        return 1 + max((s for s, m in self.messages if m.role == "assistant"), default=0)

    @property
    def started(self) -> bool:
        """Whether the model has answered yet (else the run starts from its task)."""
        return any(m.role == "assistant" for _, m in self.messages)

    def after(self, step: int) -> int:
        """How many messages belong to steps after ``step``."""
        return sum(1 for s, _ in self.messages if s > step)


async def load_conversation(store: Store, project_id: int, run_id: int) -> StoredConversation:
    """Replay the run's events into its conversation."""
    messages: list[tuple[int, Message]] = []
    since = 0
    while True:
        events = await store.events.list(project_id, run_id=run_id, since=since, limit=PAGE)
        for event in events:
            if event.type is EventType.CONVERSATION_MESSAGE_ADDED:
                added = decode_payload(event)
                assert isinstance(added, ConversationMessageAdded)
                messages.append((added.step, to_message(added)))
            elif event.type is EventType.RUN_REWOUND:
                rewound = decode_payload(event)
                assert isinstance(rewound, RunRewound)
                messages = [(s, m) for s, m in messages if s <= rewound.step]
        if len(events) < PAGE:
            return StoredConversation(messages)
        since = events[-1].id
