"""Planning: the short plan every run starts with, and plan mode.

A run plans before it acts: without plan mode the model writes a short plan (no tools), then
carries it out. In plan mode it first explores with the read-only tools (and commands, whose
changes to the worktree are put back) and ends with ``propose_plan``; the user approves,
edits or rejects the plan from the editor, and only then does the same run act on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from devfactory.protocol.enums import HitlAction

from .providers.base import ToolSpec

PLAN_REQUEST = (
    "Before doing anything, write a short numbered plan (3 to 7 steps) for this task. "
    "Do not call tools yet."
)
EXECUTE_REQUEST = (
    "Now carry out the plan with the tools. Call finish with a summary when the task is done."
)
PLAN_MODE_REQUEST = (
    "You are in plan mode: explore the project with the read-only tools (list_files, "
    "read_file, search_code, and commands that only look: tests, grep, git log) but change "
    "nothing; files cannot be written until the user approves your plan. When you understand "
    "the task, call propose_plan with a plan in Markdown: the files to change, how, and how "
    "you will check the result."
)
PLAN_TOOLS = frozenset({"list_files", "read_file", "search_code", "run_command", "ask_user"})
"""The tools offered while planning (plus propose_plan); the writing ones come on approval."""
WRITING_TOOLS = frozenset({"write_file", "edit_file", "delete_file"})

PROPOSE_PLAN = ToolSpec(
    name="propose_plan",
    description=(
        "Plan mode: end the exploration with your plan (Markdown). The user approves, edits "
        "or rejects it; once approved you carry it out with every tool."
    ),
    parameters={
        "type": "object",
        "properties": {"plan": {"type": "string", "minLength": 1}},
        "required": ["plan"],
        "additionalProperties": False,
    },
)


@dataclass(frozen=True)
class PlanDecision:
    """What the user decided about a proposed plan."""

    action: HitlAction
    text: str = ""

    def outcome(self, plan: str) -> tuple[str | None, str]:
        """(the plan to act on, or None to keep planning / stop; what the model is told)."""
        if self.action is HitlAction.APPROVE or (
            self.action is HitlAction.ANSWER and not self.text.strip()
        ):
            return plan, (
                "The user approved the plan. Carry it out now with the tools; call finish "
                "with a summary when the task is done."
            )
        if self.action is HitlAction.AMEND and self.text.strip():
            return self.text.strip(), (
                "The user edited the plan. Carry out this version now with the tools; call "
                f"finish with a summary when the task is done.\n\n{self.text.strip()}"
            )
        if self.text.strip():
            return None, (
                f"The user did not approve the plan: {self.text.strip()}\nRevise it (explore "
                "more if needed) and call propose_plan again."
            )
        return None, ""

    @property
    def stops(self) -> bool:
        """A rejection without a word: the run ends without acting."""
        return self.action is HitlAction.REJECT and not self.text.strip()


def plan_specs(specs: list[ToolSpec]) -> list[ToolSpec]:
    """The tools offered while planning."""
    return [s for s in specs if s.name in PLAN_TOOLS] + [PROPOSE_PLAN]


def refusal(name: str) -> str:
    """Why a tool is not available while planning."""
    return (
        f"plan mode: {name} is not available until the user approves your plan; finish "
        "exploring and call propose_plan"
    )


_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+(.+)$")


def plan_steps(plan: str) -> list[str]:
    """The numbered or bulleted lines of a plan."""
    return [m.group(1).strip() for line in plan.splitlines() if (m := _STEP.match(line))]
