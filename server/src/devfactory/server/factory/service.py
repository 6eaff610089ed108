"""``Factory``: the factory's services put together, as the feature's handlers use them.

It also builds the tools each task's run gets (``submit_handoff`` for the planners,
``propose`` for the architect, ``ask_agent`` for the others), bound to its initiative and
task.
"""

from __future__ import annotations

from typing import Any

from devfactory.protocol.enums import AgentRole, TaskCategory
from devfactory.protocol.events import Event
from devfactory.protocol.initiatives import Initiative
from devfactory.protocol.tasks import Task

from ..agents.arguments import check_arguments
from ..agents.tools import ToolError
from .context import FactoryContext
from .conversations import Conversations, proposal_from_tool
from .editing import PlanEditor
from .execution import TaskExecution
from .initiatives import InitiativeService
from .orchestrator import Orchestrator
from .proposals import ProposalService
from .records import FactoryRecords
from .reviewing import PhaseReview
from .tools import ASK_AGENT, PROPOSE, SUBMIT_HANDOFF, ExtraTool, Handler, bind


class Factory:
    def __init__(self, context: FactoryContext) -> None:
        self.context = context
        self.records = FactoryRecords(context)
        self.editor = PlanEditor(self.records)
        self.proposals = ProposalService(self.records, self.editor)
        self.execution = TaskExecution(context, self.records)
        self.orchestrator = Orchestrator(context, self.records, self.execution)
        self.initiatives = InitiativeService(context, self.records, self.execution)
        self.review = PhaseReview(self.records, self.orchestrator)
        self.conversations = Conversations(context, self.records, self.proposals)
        self.execution.tools_for = self.tools_for
        self.orchestrator.phases_done = self.initiatives.phases_done

    async def start(self) -> None:
        """Pick up what a daemon that died left, then keep the initiatives moving (the
        feature starts with it, so requests wait until it is done)."""
        await self.orchestrator.recover()

    def on_event(self, event: Event) -> None:
        self.orchestrator.on_event(event)

    async def shutdown(self) -> None:
        await self.orchestrator.shutdown()

    # -- the tools of a task's run -------------------------------------------------------------

    def tools_for(self, initiative: Initiative, task: Task) -> FactoryTools:
        async def run_id() -> int:
            current = await self.records.task(task.id)
            return current.run_ids[-1] if current.run_ids else 0

        async def submit(args: dict[str, Any]) -> str:
            return await self.proposals.submit_handoff(
                initiative,
                task.agent,
                await run_id(),
                task.id,
                str(args["schema"]),
                args["content"],
            )

        async def propose(args: dict[str, Any]) -> str:
            return await proposal_from_tool(self.proposals, initiative, args, run_id=await run_id())

        async def ask(args: dict[str, Any]) -> str:
            return await self.conversations.ask(
                initiative, task, int(args["task_id"]), str(args["question"])
            )

        handlers: dict[str, tuple[Any, Handler]] = {}
        if task.category is TaskCategory.PLAN and task.agent in (
            AgentRole.ANALYST,
            AgentRole.ARCHITECT,
        ):
            handlers[SUBMIT_HANDOFF.name] = (SUBMIT_HANDOFF, submit)
            if task.agent is AgentRole.ARCHITECT:
                handlers[PROPOSE.name] = (PROPOSE, propose)
        else:
            handlers[ASK_AGENT.name] = (ASK_AGENT, ask)
        return FactoryTools(dict(bind(spec, handler) for spec, handler in handlers.values()))


class FactoryTools:
    """The factory tools of one run, as the agent loop takes extra tools."""

    def __init__(self, tools: dict[str, ExtraTool]) -> None:
        self.tools = tools
        self.specs = [tool.spec for tool in tools.values()]

    def handles(self, name: str) -> bool:
        return name in self.tools

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        tool = self.tools[name]
        try:
            check_arguments(tool.spec, arguments)
        except ToolError as exc:
            return f"error: {exc}"
        return await tool.handler(arguments)
