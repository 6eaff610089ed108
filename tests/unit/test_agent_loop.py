"""The agent loop in-process: the conversation it remembers, plan mode, scoped rules,
compaction and checkpoints, with the scripted provider and a recording handle."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from devfactory.protocol.enums import AgentRole, EventType, HitlAction
from devfactory.server.agents.loop import AgentLoop, ContextLimit, Conversation
from devfactory.server.agents.planning import PLAN_MODE_REQUEST, PlanDecision
from devfactory.server.agents.providers.base import Message, ToolSpec, Turn, Usage
from devfactory.server.agents.providers.scripted import Script, ScriptedProvider
from devfactory.server.agents.roles import ROLES
from devfactory.server.agents.rules import ScopedRules, discover_rules
from devfactory.server.agents.tools import ToolBox
from devfactory.server.safefs import SafeTree


@dataclass
class Handle:
    """A RunHandle that records everything and answers plans as told."""

    decisions: list[PlanDecision] = field(default_factory=list)
    run_id: int = 1
    remembered: list[tuple[int, Message]] = field(default_factory=list)
    events: list[tuple[EventType, Any]] = field(default_factory=list)
    steps_done: list[int] = field(default_factory=list)
    plans: list[tuple[str, bool]] = field(default_factory=list)

    async def emit(self, type: EventType, title: str, payload: Any, **kw: Any) -> None:
        self.events.append((type, payload))

    async def checkpoint(self, step: int) -> list[str]:
        return []

    async def ask(self, question: str, choices: list[str], tool_call_id: str) -> str:
        return "yes"

    async def review_plan(self, plan: str, tool_call_id: str) -> PlanDecision:
        return self.decisions.pop(0)

    async def plan_decided(self, plan: str, approved: bool) -> None:
        self.plans.append((plan, approved))

    async def remember(self, step: int, message: Message) -> None:
        self.remembered.append((step, message))

    async def step_done(self, step: int) -> None:
        self.steps_done.append(step)

    def stream(self, delta: str) -> None:
        pass

    async def add_usage(self, usage: Usage) -> None:
        pass

    def of(self, kind: EventType) -> list[Any]:
        return [payload for type_, payload in self.events if type_ is kind]


class Recording(ScriptedProvider):
    """The scripted provider, keeping every request."""

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        super().__init__(msgspec.convert({"turns": turns}, Script))
        self.requests: list[tuple[list[Message], list[str]]] = []

    async def complete(self, messages: list[Message], tools: list[ToolSpec], on_text: Any) -> Turn:
        self.requests.append((list(messages), [t.name for t in tools]))
        return await super().complete(messages, tools, on_text)


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"toolCalls": [{"name": name, "arguments": arguments}]}


def make_loop(worktree: Path, provider: Recording, handle: Handle, **kw: Any) -> AgentLoop:
    async def proposed(path: str, action: Any) -> None:
        return None

    async def run_command(command: str, timeout: float | None, read_only: bool) -> str:
        return f"ran {command} (read only: {read_only})"

    tools = ToolBox(
        run_id=1, worktree=worktree, emit=handle.emit, on_file_changed=proposed, search=None
    )
    return AgentLoop(
        handle=handle,
        provider=provider,
        role=ROLES[AgentRole.BACKEND],
        tools=tools,
        run_command=run_command,
        max_steps=10,
        system_prompt="You are a test agent.",
        **kw,
    )


TASK = Message(role="user", content="# Task\nFix calc.py")


async def test_every_message_is_remembered_with_its_step_and_every_call_answered(tmp_path):
    provider = Recording(
        [
            {"text": "1. Read calc.py"},
            call("write_file", path="calc.py", content="x = 1\n"),
            {
                "toolCalls": [
                    {"name": "finish", "arguments": {"summary": "Done."}},
                    {"name": "read_file", "arguments": {"path": "calc.py"}},
                ]
            },
        ]
    )
    handle = Handle()
    result = await make_loop(tmp_path, provider, handle).execute(Conversation(history=[TASK]))
    assert (result.summary, result.steps, result.plan) == ("Done.", 2, "1. Read calc.py")
    shape = [(step, m.role, m.name) for step, m in handle.remembered]
    assert shape == [
        (0, "user", None),  # the plan request
        (0, "assistant", None),
        (0, "user", None),  # carry it out
        (1, "assistant", None),
        (1, "tool", "write_file"),
        (2, "assistant", None),
        (2, "tool", "finish"),  # answered, so the conversation can go on later
        (2, "tool", "read_file"),
    ]
    assert handle.steps_done == [1]  # only the step that wrote
    assert (tmp_path / "calc.py").read_text() == "x = 1\n"


async def test_a_follow_up_continues_the_conversation_from_the_next_step(tmp_path):
    first = Recording([{"text": "plan"}, call("finish", summary="first")])
    handle = Handle()
    await make_loop(tmp_path, first, handle).execute(Conversation(history=[TASK]))
    history = [m for _, m in handle.remembered] + [Message(role="user", content="Now add tests")]
    again = Recording(
        [{"text": "plan"}, call("finish", summary="first"), call("finish", summary="tests added")]
    )
    handle2 = Handle()
    result = await make_loop(tmp_path, again, handle2).execute(
        Conversation(history=[TASK, *history], first_step=2)
    )
    assert result.summary == "tests added" and result.steps == 2
    sent, _ = again.requests[0]
    assert [m.content for m in sent][-1] == "Now add tests"
    assert sent[0].role == "system" and len(again.requests) == 1  # no second planning turn


async def test_plan_mode_refuses_writes_waits_for_approval_then_acts(tmp_path):
    provider = Recording(
        [
            call("write_file", path="calc.py", content="too early"),
            call("run_command", command="pytest"),
            call("propose_plan", plan="1. Fix add()"),
            call("write_file", path="calc.py", content="fixed"),
            call("finish", summary="Fixed."),
        ]
    )
    handle = Handle(decisions=[PlanDecision(HitlAction.AMEND, "1. Fix add() and test it")])
    conversation = Conversation(history=[TASK], plan_mode=True)
    result = await make_loop(tmp_path, provider, handle).execute(conversation)

    assert result.summary == "Fixed." and result.plan == "1. Fix add() and test it"
    first_request, first_tools = provider.requests[0]
    assert first_request[-1].content == PLAN_MODE_REQUEST
    assert sorted(first_tools) == [
        "ask_user",
        "list_files",
        "propose_plan",
        "read_file",
        "run_command",
        "search_code",
    ]
    tool_answers = [m.content for _, m in handle.remembered if m.role == "tool"]
    assert tool_answers[0].startswith("error: plan mode: write_file is not available")
    assert tool_answers[1] == "ran pytest (read only: True)"
    assert tool_answers[2].startswith("The user edited the plan.")
    assert "write_file" in provider.requests[3][1] and "finish" in provider.requests[3][1]
    assert (tmp_path / "calc.py").read_text() == "fixed"
    assert handle.plans == [("1. Fix add() and test it", True)]
    awaiting = [p.awaiting_approval for p in handle.of(EventType.AI_PLAN_CREATED)]
    assert awaiting == [True]


async def test_a_rejected_plan_with_feedback_is_revised_and_without_it_ends_the_run(tmp_path):
    provider = Recording([call("propose_plan", plan="v1"), call("propose_plan", plan="v2")])
    handle = Handle(
        decisions=[PlanDecision(HitlAction.REJECT, "smaller"), PlanDecision(HitlAction.REJECT)]
    )
    result = await make_loop(tmp_path, provider, handle).execute(
        Conversation(history=[TASK], plan_mode=True)
    )
    assert result.summary == "The user rejected the plan; nothing was changed."
    assert handle.plans == [("v1", False), ("v2", False)]
    assert "smaller" in provider.requests[1][0][-1].content


async def test_nested_rules_reach_the_model_when_it_first_works_under_their_folder(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "pkg" / "AGENTS.md").write_text("Use tabs in pkg.")
    (tmp_path / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "other" / "b.py").write_text("y = 2\n")
    catalog = discover_rules(SafeTree(tmp_path), ["pkg/AGENTS.md", "pkg/mod.py", "other/b.py"])
    rules = ScopedRules(catalog, 10_000)
    assert rules.system_rules([]).text == ""
    provider = Recording(
        [
            {"text": "plan"},
            call("read_file", path="other/b.py"),
            call("read_file", path="pkg/mod.py"),
            call("read_file", path="pkg/mod.py"),
            call("finish", summary="ok"),
        ]
    )
    handle = Handle()
    await make_loop(tmp_path, provider, handle, rules=rules).execute(Conversation(history=[TASK]))
    carrying = [
        i
        for i, (sent, _) in enumerate(provider.requests)
        if any("Use tabs in pkg." in m.content for m in sent)
    ]
    assert carrying == [3, 4]  # after the first read under pkg/, never before
    loaded = handle.of(EventType.AI_CONTEXT_LOADED)
    assert [r.path for r in loaded[0].rules] == ["pkg/AGENTS.md"] and len(loaded) == 1
    assert not any("Use tabs" in m.content for _, m in handle.remembered)


async def test_the_conversation_is_compacted_near_the_context_window(tmp_path):
    (tmp_path / "big.py").write_text("data = 1\n" * 3000)
    turns = (
        [{"text": "plan"}] + [call("read_file", path="big.py")] * 6 + [call("finish", summary="ok")]
    )
    provider = Recording(turns)
    handle = Handle()
    limit = ContextLimit(window=20_000, compact_at=0.5)
    await make_loop(tmp_path, provider, handle, limit=limit).execute(Conversation(history=[TASK]))
    compactions = handle.of(EventType.CONTEXT_COMPACTED)
    assert compactions and compactions[0].stage == "tool_outputs"
    assert all(c.tokens_before > 10_000 >= c.tokens_after for c in compactions)
    assert provider.requests[-1][0][1] == TASK  # the user's message, whole
    # The stored conversation is whole: compaction changes only what the model is sent.
    stored = [m for _, m in handle.remembered if m.name == "read_file"]
    assert len(stored) == 6 and all(len(m.content) > 20_000 for m in stored)
