"""The agent loop of a chat-model run: one conversation, from the task to ``finish``.

The conversation is the run's: every message goes through ``RunHandle.remember`` (persisted),
so a follow-up, a review iteration or a daemon restart continues it where it stopped. A fresh
run plans first (``planning.py``); plan mode explores read-only and waits for the user's
approval before it acts. Before each model call the conversation is fitted to the model's
context window (``compaction.py``); after each step that may have changed the worktree the
handle takes a checkpoint.

It talks to the run only through ``RunHandle`` (implemented by the run worker), which owns
the status machine: step boundaries (pause, directives, budgets), questions to the user,
streaming, token accounting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from devfactory.protocol.enums import EventType, Severity
from devfactory.protocol.events import (
    AiMessage,
    ContextCompacted,
    ContextLoaded,
    ErrorPayload,
    Payload,
    PlanCreated,
)

from .arguments import check_arguments
from .compaction import compact, estimate_tokens
from .planning import (
    EXECUTE_REQUEST,
    PLAN_MODE_REQUEST,
    PLAN_REQUEST,
    PROPOSE_PLAN,
    WRITING_TOOLS,
    PlanDecision,
    plan_specs,
    plan_steps,
    refusal,
)
from .providers.base import ChatProvider, Message, ToolCall, ToolSpec, Turn, Usage
from .providers.redaction import StreamRedactor, redact, redact_json
from .providers.sdk import MALFORMED_ARGUMENTS_KEY
from .roles import Role
from .rules import ScopedRules, render_rules
from .tools import REFUSED, SPECS, ToolBox, ToolError

NUDGE = "Continue with the tools, or call finish if the task is done."
PLAN_NUDGE = "Continue exploring with the read-only tools, or call propose_plan with your plan."


class RunHandle(Protocol):
    """What the loop needs from the run that drives it."""

    run_id: int

    async def emit(
        self, type: EventType, title: str, payload: Payload, *, message: str = "", **kw: Any
    ) -> Any: ...

    async def checkpoint(self, step: int) -> list[str]:
        """A step boundary: wait here while paused (or over budget); returns the user's
        pending directives."""
        ...

    async def ask(self, question: str, choices: list[str], tool_call_id: str) -> str:
        """Ask the user and wait for the answer (the run waits for the user meanwhile)."""
        ...

    async def review_plan(self, plan: str, tool_call_id: str) -> PlanDecision:
        """Show the plan to the user and wait for approval, an edit or a rejection."""
        ...

    async def plan_decided(self, plan: str, approved: bool) -> None:
        """Keep the plan artifact (and whether the run may now act on it)."""
        ...

    async def remember(self, step: int, message: Message) -> None:
        """Persist a message of the conversation, as part of ``step``."""
        ...

    async def step_done(self, step: int) -> None:
        """The step may have changed the worktree: checkpoint it if it did."""
        ...

    def stream(self, delta: str) -> None: ...

    async def add_usage(self, usage: Usage) -> None: ...


class ExtraTools(Protocol):
    """Tools from elsewhere (MCP servers: ``mcp_tools.McpTools``; an initiative's task: the
    factory's), offered next to ours."""

    @property
    def specs(self) -> list[ToolSpec]:
        """The tools offered now (a server that stopped has taken its tools away)."""
        ...

    def handles(self, name: str) -> bool: ...

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run the call (approval, recording included); the text the model reads."""
        ...


def combined(*tools: ExtraTools | None) -> ExtraTools | None:
    """Several sources of extra tools (MCP servers, an initiative's) as one."""
    present = [t for t in tools if t is not None]
    if len(present) < 2:
        return present[0] if present else None
    return CombinedTools(present)


class CombinedTools:
    def __init__(self, sources: list[ExtraTools]) -> None:
        self.sources = sources

    @property
    def specs(self) -> list[ToolSpec]:
        return [spec for source in self.sources for spec in source.specs]

    def handles(self, name: str) -> bool:
        return any(source.handles(name) for source in self.sources)

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        source = next(s for s in self.sources if s.handles(name))
        return await source.call(name, arguments)


class StepLimitReached(RuntimeError):
    pass


@dataclass
class LoopResult:
    summary: str
    plan: str
    steps: int
    """The last step taken (steps count on across follow-ups)."""
    tool_calls: int = 0
    files_changed: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    """Where a run's conversation stands when the loop takes it up."""

    history: list[Message]
    """Every message so far (the system prompt aside), the new user message(s) last."""
    first_step: int = 1
    """The number of the next step."""
    plan_mode: bool = False
    plan_approved: bool = False
    plan: str | None = None


@dataclass(frozen=True)
class ContextLimit:
    """When to compact: past ``compact_at`` of the model's ``window`` tokens."""

    window: int
    compact_at: float

    @property
    def tokens(self) -> int:
        return int(self.window * self.compact_at)


CommandRunner = Callable[[str, float | None, bool], Awaitable[str]]
"""``(command, timeout_s, read_only)``: read-only while planning (changes are put back)."""


class AgentLoop:
    def __init__(
        self,
        *,
        handle: RunHandle,
        provider: ChatProvider,
        role: Role,
        tools: ToolBox,
        run_command: CommandRunner | None,
        max_steps: int,
        system_prompt: str,
        rules: ScopedRules | None = None,
        limit: ContextLimit | None = None,
        extra_tools: ExtraTools | None = None,
    ) -> None:
        self.handle = handle
        self.provider = provider
        self.role = role
        self.tools = tools
        self.run_command = run_command
        self.max_steps = max_steps
        self.system = Message(role="system", content=system_prompt)
        self.rules = rules
        self.limit = limit
        self.extra_tools = extra_tools
        self.specs: list[ToolSpec] = [
            spec
            for name, spec in SPECS.items()
            if name in role.tools and (name != "run_command" or run_command is not None)
        ]
        self.messages: list[Message] = []
        """The conversation as the model sees it (compacted); storage keeps it whole."""
        self.planning = False
        self.plan = ""
        self._measured: tuple[int, int] | None = None
        """(messages, input tokens) of the last request, as the provider counted them."""

    async def execute(self, conversation: Conversation) -> LoopResult:
        self.messages = list(conversation.history)
        self.planning = conversation.plan_mode and not conversation.plan_approved
        self.plan = conversation.plan or ""
        step = conversation.first_step
        if not any(m.role == "assistant" for m in self.messages):  # a fresh run
            if self.planning:
                await self._add(step - 1, Message(role="user", content=PLAN_MODE_REQUEST))
            elif not conversation.plan_mode:
                await self._plan_first(step - 1)
        return await self._steps(step)

    async def _plan_first(self, step: int) -> None:
        """The short plan every run starts with (no tools)."""
        await self._add(step, Message(role="user", content=PLAN_REQUEST))
        plan_turn = await self._turn([], record_text=False)
        self.plan = plan_turn.text.strip()
        await self.handle.emit(
            EventType.AI_PLAN_CREATED,
            "Plan",
            PlanCreated(plan=self.plan, steps=plan_steps(self.plan)),
            message=self.plan,
        )
        await self._add(step, Message(role="assistant", content=self.plan))
        await self._add(step, Message(role="user", content=EXECUTE_REQUEST))

    async def _steps(self, first: int) -> LoopResult:
        handle = self.handle
        tool_calls = 0
        for step in range(first, first + self.max_steps):
            for directive in await handle.checkpoint(step):
                await self._add(
                    step, Message(role="user", content=f"Message from the user: {directive}")
                )
            turn = await self._turn(self.offered())
            await self._add(
                step, Message(role="assistant", content=turn.text, tool_calls=turn.tool_calls)
            )
            if not turn.tool_calls:
                nudge = PLAN_NUDGE if self.planning else NUDGE
                await self._add(step, Message(role="user", content=nudge))
                continue
            changed = False
            touched: list[str] = []
            for index, call in enumerate(turn.tool_calls):
                tool_calls += 1
                if call.name == "finish" and not self.planning:
                    await self._skip(step, turn.tool_calls[index:], "finished")
                    summary = str(call.arguments.get("summary", "")).strip() or turn.text.strip()
                    return self._result(summary, step, tool_calls)
                if call.name == PROPOSE_PLAN.name and self.planning:
                    outcome = await self._propose_plan(step, call)
                    if outcome is not None:
                        await self._skip(
                            step, turn.tool_calls[index + 1 :], "the plan was rejected"
                        )
                        return self._result(outcome, step, tool_calls)
                    continue
                result = await self._call_tool(call)
                await self._add(
                    step,
                    Message(role="tool", content=result, tool_call_id=call.id, name=call.name),
                )
                changed |= self._may_change(call.name)
                if isinstance(path := call.arguments.get("path"), str):
                    touched.append(path)
            await self._scoped_rules(step, touched)
            if changed:
                await handle.step_done(step)
        raise StepLimitReached(f"the step limit ({self.max_steps}) was reached before finish")

    def _result(self, summary: str, step: int, tool_calls: int) -> LoopResult:
        return LoopResult(summary, self.plan, step, tool_calls, dict(self.tools.files_changed))

    def _may_change(self, name: str) -> bool:
        """Whether a tool may change the worktree (commands and MCP tools may do anything)."""
        if name in WRITING_TOOLS or name == "run_command":
            return True
        return self.extra_tools is not None and self.extra_tools.handles(name)

    async def _skip(self, step: int, calls: list[ToolCall], why: str) -> None:
        """Answer tool calls the loop ends before running: every call keeps its answer, or the
        conversation could not be continued (the APIs refuse a call without a result)."""
        for call in calls:
            await self._add(
                step,
                Message(role="tool", content=why, tool_call_id=call.id, name=call.name),
            )

    async def _propose_plan(self, step: int, call: ToolCall) -> str | None:
        """Show the plan and act on the user's decision; a summary when the run ends here."""
        plan = str(call.arguments.get("plan", "")).strip()
        if not plan:
            await self._add(step, self._tool_answer(call, "error: the plan is empty"))
            return None
        await self.handle.emit(
            EventType.AI_PLAN_CREATED,
            "Plan for your approval",
            PlanCreated(plan=plan, steps=plan_steps(plan), awaiting_approval=True),
            message=plan,
        )
        decision = await self.handle.review_plan(plan, call.id)
        approved, told = decision.outcome(plan)
        if decision.stops:
            await self.handle.plan_decided(plan, approved=False)
            await self._add(step, self._tool_answer(call, "The user rejected the plan."))
            return "The user rejected the plan; nothing was changed."
        self.plan = approved or plan
        await self.handle.plan_decided(self.plan, approved=approved is not None)
        self.planning = approved is None
        await self._add(step, self._tool_answer(call, told))
        return None

    @staticmethod
    def _tool_answer(call: ToolCall, text: str) -> Message:
        return Message(role="tool", content=text, tool_call_id=call.id, name=call.name)

    async def _scoped_rules(self, step: int, paths: list[str]) -> None:
        """Give the model the rules of the folders it has just started working in."""
        if self.rules is None:
            return
        fresh = [source for path in paths for source in self.rules.newly_applying(path)]
        if not fresh:
            return
        rendered = render_rules(fresh, self.rules.max_chars)
        await self.handle.emit(
            EventType.AI_CONTEXT_LOADED,
            "Project rules for " + ", ".join(s.applies_to or s.path for s in fresh),
            ContextLoaded(files=[s.path for s in fresh], rules=rendered.files),
        )
        # Not remembered: a restarted run's system prompt carries the rules of every path
        # the conversation touched.
        self.messages.append(Message(role="user", content=rendered.text))

    def offered(self) -> list[ToolSpec]:
        """What the model may call now: read-only tools while planning; else ours, then the
        extra ones still available."""
        if self.planning:
            return plan_specs(self.specs)
        return self.specs + (self.extra_tools.specs if self.extra_tools is not None else [])

    async def _add(self, step: int, message: Message) -> None:
        self.messages.append(message)
        await self.handle.remember(step, message)

    async def _turn(self, tools: list[ToolSpec], record_text: bool = True) -> Turn:
        messages = await self._fitted(tools)
        turn = await self._complete(messages, tools)
        self._measured = (len(self.messages), turn.usage.input_tokens)
        await self.handle.add_usage(turn.usage)
        if record_text and turn.text.strip():
            await self.handle.emit(
                EventType.AI_MESSAGE, "Assistant", AiMessage(text=turn.text), message=turn.text
            )
        return turn

    async def _fitted(self, tools: list[ToolSpec]) -> list[Message]:
        """The request's messages, compacted first when they near the context window."""
        if self.limit is None:
            return [self.system, *self.messages]
        reserved = estimate_tokens([self.system], tools)
        estimate = reserved + estimate_tokens(self.messages)
        if self._measured is not None and self._measured[0] <= len(self.messages):
            count, tokens = self._measured  # the provider's own count, when it gave one
            estimate = max(estimate, tokens + estimate_tokens(self.messages[count:]))
        if estimate > self.limit.tokens:
            compacted, steps = compact(self.messages, max(self.limit.tokens - reserved, 0))
            if steps:
                self.messages, self._measured = compacted, None
            for done in steps:
                what = (
                    "old tool outputs shortened"
                    if done.stage == "tool_outputs"
                    else ("older turns summarized")
                )
                await self.handle.emit(
                    EventType.CONTEXT_COMPACTED,
                    f"Context compacted: {what}",
                    ContextCompacted(
                        stage=done.stage,
                        tokens_before=done.tokens_before + reserved,
                        tokens_after=done.tokens_after + reserved,
                        messages=done.messages,
                        context_window=self.limit.window,
                    ),
                    message=f"about {done.tokens_before + reserved} -> "
                    f"{done.tokens_after + reserved} tokens of {self.limit.window}",
                )
        return [self.system, *self.messages]

    async def _complete(self, messages: list[Message], tools: list[ToolSpec]) -> Turn:
        """One model turn with every known key taken out of what the model said.

        The model's output is untrusted: an endpoint may echo the key it was sent, and what
        the model says becomes events, files, diffs and the changelog.
        """
        stream = StreamRedactor()

        def on_text(delta: str) -> None:
            if safe := stream.feed(delta):
                self.handle.stream(safe)

        turn = await self.provider.complete(messages, tools, on_text)
        if rest := stream.flush():
            self.handle.stream(rest)
        turn.text = redact(turn.text)
        turn.tool_calls = [
            ToolCall(id=c.id, name=c.name, arguments=redact_json(c.arguments))
            for c in turn.tool_calls
        ]
        return turn

    async def _call_tool(self, call: ToolCall) -> str:
        args = call.arguments
        try:
            if self.extra_tools is not None and self.extra_tools.handles(call.name):
                if self.planning:
                    raise ToolError(refusal(call.name))
                if MALFORMED_ARGUMENTS_KEY in args:
                    raise ToolError(f"the arguments of {call.name} are not a JSON object")
                return await self.extra_tools.call(call.name, args)
            if self.planning and call.name in WRITING_TOOLS | {"finish"}:
                raise ToolError(refusal(call.name))
            spec = next((spec for spec in self.offered() if spec.name == call.name), None)
            if spec is None:
                raise ToolError(f"unknown or unavailable tool {call.name!r}")
            if MALFORMED_ARGUMENTS_KEY in args:
                raise ToolError(
                    f"the arguments of {call.name} are not a JSON object: "
                    f"{str(args[MALFORMED_ARGUMENTS_KEY])[:200]}"
                )
            check_arguments(spec, args)
            if call.name == "ask_user":
                choices = [str(c) for c in args.get("choices") or []]
                return await self.handle.ask(str(args.get("question", "")), choices, call.id)
            if call.name == "run_command":
                assert self.run_command is not None
                timeout = args.get("timeout_s")
                return await self.run_command(
                    str(args.get("command", "")),
                    float(timeout) if timeout else None,
                    self.planning,
                )
            method = getattr(self.tools, call.name)
            return str(await method(**args))
        except ToolError as exc:
            return await self._failed(call.name, str(exc))
        except OSError as exc:  # a name too long, a file used as a folder: the model can adapt
            path = args.get("path")
            where = f" on {path[:100]!r}" if isinstance(path, str) else ""
            return await self._failed(
                call.name, f"{call.name} failed{where}: {exc.strerror or exc}"
            )

    async def _failed(self, name: str, why: str) -> str:
        """A tool call's error: the model's answer (it can adapt), and a warning on the
        timeline, so an edit that did not happen is not silent (a refused path is reported
        where it is refused)."""
        if not why.startswith(REFUSED):
            text = why if why.startswith(f"{name} ") else f"{name}: {why}"
            await self.handle.emit(
                EventType.ERROR,
                "Tool failed",
                ErrorPayload(message=text),
                severity=Severity.WARNING,
                message=text,
            )
        return f"error: {why}"
