"""The agent loop of a chat-model run: prompt, context, plan, tool steps, summary.

It talks to the run only through ``RunHandle`` (implemented by the run worker), which owns
the status machine: step boundaries (pause, directives), questions to the user, streaming,
token accounting.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from devfactory.protocol.enums import EventType
from devfactory.protocol.events import AiMessage, Payload, PlanCreated

from .arguments import check_arguments
from .providers.base import ChatProvider, Message, ToolCall, ToolSpec, Turn, Usage
from .providers.redaction import StreamRedactor, redact, redact_json
from .providers.sdk import MALFORMED_ARGUMENTS_KEY
from .roles import Role
from .tools import SPECS, ToolBox, ToolError

PLAN_REQUEST = (
    "Before doing anything, write a short numbered plan (3 to 7 steps) for this task. "
    "Do not call tools yet."
)
EXECUTE_REQUEST = (
    "Now carry out the plan with the tools. Call finish with a summary when the task is done."
)


class RunHandle(Protocol):
    """What the loop needs from the run that drives it."""

    run_id: int

    async def emit(
        self, type: EventType, title: str, payload: Payload, *, message: str = "", **kw: Any
    ) -> Any: ...

    async def checkpoint(self, step: int) -> list[str]:
        """A step boundary: wait here while paused; returns the user's pending directives."""
        ...

    async def ask(self, question: str, choices: list[str], tool_call_id: str) -> str:
        """Ask the user and wait for the answer (the run waits for the user meanwhile)."""
        ...

    def stream(self, delta: str) -> None: ...

    async def add_usage(self, usage: Usage) -> None: ...


class ExtraTools(Protocol):
    """Tools from elsewhere (MCP servers: ``mcp_tools.McpTools``), offered next to ours."""

    specs: list[ToolSpec]
    """The tools offered now (a server that stopped has taken its tools away)."""

    def handles(self, name: str) -> bool: ...

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run the call (approval, recording included); the text the model reads."""
        ...


class StepLimitReached(RuntimeError):
    pass


@dataclass
class LoopResult:
    summary: str
    plan: str
    steps: int
    tool_calls: int = 0
    files_changed: dict[str, Any] = field(default_factory=dict)


CommandRunner = Callable[[str, float | None], Awaitable[str]]


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
        extra_tools: ExtraTools | None = None,
    ) -> None:
        self.handle = handle
        self.extra_tools = extra_tools
        self.provider = provider
        self.role = role
        self.tools = tools
        self.run_command = run_command
        self.max_steps = max_steps
        self.specs: list[ToolSpec] = [
            spec
            for name, spec in SPECS.items()
            if name in role.tools and (name != "run_command" or run_command is not None)
        ]

    async def execute(self, prompt: str, context: str) -> LoopResult:
        handle = self.handle
        messages = [
            Message(role="system", content=self.role.system_prompt),
            Message(role="user", content=f"{context}\n\n# Task\n{prompt}".strip()),
            Message(role="user", content=PLAN_REQUEST),
        ]
        plan_turn = await self._turn(messages, tools=[], record_text=False)
        plan = plan_turn.text.strip()
        await handle.emit(
            EventType.AI_PLAN_CREATED,
            "Plan",
            PlanCreated(plan=plan, steps=plan_steps(plan)),
            message=plan,
        )
        messages += [
            Message(role="assistant", content=plan),
            Message(role="user", content=EXECUTE_REQUEST),
        ]

        tool_calls = 0
        for step in range(1, self.max_steps + 1):
            for directive in await handle.checkpoint(step):
                messages.append(Message(role="user", content=f"Message from the user: {directive}"))
            turn = await self._turn(messages, tools=self.offered())
            messages.append(
                Message(role="assistant", content=turn.text, tool_calls=turn.tool_calls)
            )
            if not turn.tool_calls:
                messages.append(
                    Message(
                        role="user",
                        content="Continue with the tools, or call finish if the task is done.",
                    )
                )
                continue
            for call in turn.tool_calls:
                tool_calls += 1
                if call.name == "finish":
                    summary = str(call.arguments.get("summary", "")).strip() or turn.text.strip()
                    return LoopResult(
                        summary, plan, step, tool_calls, dict(self.tools.files_changed)
                    )
                result = await self._call_tool(call)
                messages.append(
                    Message(role="tool", content=result, tool_call_id=call.id, name=call.name)
                )
        raise StepLimitReached(f"the step limit ({self.max_steps}) was reached before finish")

    def offered(self) -> list[ToolSpec]:
        """Our tools, then the extra ones still available."""
        return self.specs + (self.extra_tools.specs if self.extra_tools is not None else [])

    async def _turn(
        self, messages: list[Message], tools: list[ToolSpec], record_text: bool = True
    ) -> Turn:
        turn = await self._complete(messages, tools)
        await self.handle.add_usage(turn.usage)
        if record_text and turn.text.strip():
            await self.handle.emit(
                EventType.AI_MESSAGE, "Assistant", AiMessage(text=turn.text), message=turn.text
            )
        return turn

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
                if MALFORMED_ARGUMENTS_KEY in args:
                    raise ToolError(f"the arguments of {call.name} are not a JSON object")
                return await self.extra_tools.call(call.name, args)
            spec = next((spec for spec in self.specs if spec.name == call.name), None)
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
                    str(args.get("command", "")), float(timeout) if timeout else None
                )
            method = getattr(self.tools, call.name)
            return str(await method(**args))
        except ToolError as exc:
            return f"error: {exc}"
        except OSError as exc:  # a name too long, a file used as a folder: the model can adapt
            path = args.get("path")
            where = f" on {path[:100]!r}" if isinstance(path, str) else ""
            return f"error: {call.name} failed{where}: {exc.strerror or exc}"


_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.+)$")


def plan_steps(plan: str) -> list[str]:
    """The numbered or bulleted lines of a plan."""
    return [m.group(1).strip() for line in plan.splitlines() if (m := _STEP.match(line))]
