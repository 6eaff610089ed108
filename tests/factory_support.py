"""Helpers for factory tests: one scripted-provider script that plays every agent of an
initiative (conversations picked by each run's prompt), and waiting on initiatives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devfactory.protocol.enums import InitiativeMode, TaskStatus
from devfactory.protocol.initiatives import (
    Initiative,
    InitiativeCreateParams,
    InitiativeIdParams,
    InitiativeTree,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.proposals import Proposal, ProposalAcceptParams
from devfactory.protocol.tasks import Task
from runs_support import call, finish, turn
from support import DaemonClient

SPEC = {
    "core_idea": "A todo list in Python",
    "requirements": ["store todos", "list todos over an API"],
    "user_stories": ["As a user I add a todo and see it listed"],
    "high_level_features": ["model", "API", "UI"],
}


def planned(
    key: str, title: str, phase: str, agent: str = "backend", **more: Any
) -> dict[str, Any]:
    return {"key": key, "title": title, "phase": phase, "agent": agent, **more}


def plan_of(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {
        "architecture": "a module per concern",
        "database_schema": "todos(id, title)",
        "tech_stack": ["python"],
        "task_breakdown": list(tasks),
    }


def analyst(name: str, spec: dict[str, Any] = SPEC, bad_first: bool = False) -> dict[str, Any]:
    """The analyst's conversation: (an invalid handoff, corrected after the error,) finish."""
    turns: list[dict[str, Any]] = [turn("1. Read the goal\n2. Write the specification")]
    if bad_first:
        wrong = {**spec, "requirements": "store todos"}
        turns.append(
            turn("", call("submit_handoff", schema="software_specification", content=wrong))
        )
        turns.append(turn("The error says:", quote_last=True))
    turns.append(turn("", call("submit_handoff", schema="software_specification", content=spec)))
    turns.append(finish(f"Specified {name}"))
    return {"match": f"Specify: {name}", "turns": turns}


def architect(name: str, plan: dict[str, Any]) -> dict[str, Any]:
    return {
        "match": f"Plan: {name}",
        "turns": [
            turn("1. Read the specification\n2. Plan phases and tasks"),
            turn("", call("submit_handoff", schema="implementation_plan", content=plan)),
            finish(f"Planned {name}"),
        ],
    }


def task_match(title: str) -> str:
    """What only the prompt of the task called ``title`` contains (its first line's end)."""
    return f": {title}\n\n# Initiative"


def coder(
    title: str, *steps: dict[str, Any], summary: str, delay_s: float = 0, match: str | None = None
) -> dict[str, Any]:
    """A task's agent: the steps (tool calls), then finish with ``summary``."""
    return {
        "match": match or task_match(title),
        "turns": [
            turn(f"1. {title}", delay_s=delay_s),
            *(turn("", s) for s in steps),
            finish(summary),
        ],
    }


def answer(match: str, text: str) -> dict[str, Any]:
    """A one-turn reply (ask_agent's answer, a chat reply)."""
    return {"match": match, "turns": [turn(text)]}


def write_factory_script(folder: Path, name: str, conversations: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"conversations": conversations}, indent=1))
    return path


async def hand_planned(
    client: DaemonClient, goal: str, mode: InitiativeMode, model: Path
) -> Initiative:
    """An initiative with no planning phase (the test adds its phases and tasks), its agents
    played by the scripted ``model``."""
    created: Initiative = await client.call(
        Requests.INITIATIVES_CREATE,
        InitiativeCreateParams(
            goal=goal, mode=mode, provider="scripted", model=str(model), plan=False
        ),
    )
    return created


async def tree(client: DaemonClient, initiative_id: int) -> InitiativeTree:
    found: InitiativeTree = await client.call(
        Requests.INITIATIVES_GET, InitiativeIdParams(initiative_id=initiative_id)
    )
    return found


async def wait_tree(
    client: DaemonClient,
    initiative_id: int,
    predicate: Callable[[InitiativeTree], bool],
    timeout: float = 60,
    what: str = "the initiative to get there",
) -> InitiativeTree:
    """Poll the initiative until ``predicate`` holds; fail with its tree if it never does."""
    last: InitiativeTree | None = None

    async def poll() -> InitiativeTree:
        nonlocal last
        while True:
            last = await tree(client, initiative_id)
            if predicate(last):
                return last
            await asyncio.sleep(0.1)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"waited for {what}; the initiative is:\n{describe(last)}") from None


def describe(found: InitiativeTree | None) -> str:
    if found is None:
        return "(never read)"
    lines = [f"{found.initiative.name}: {found.initiative.status.value}"]
    for phase in found.phases:
        lines.append(f"  phase {phase.id} {phase.name}: {phase.status.value}")
        for task in found.tasks:
            if task.phase_id == phase.id:
                reason = f" ({task.failed_reason})" if task.failed_reason else ""
                lines.append(f"    task {task.id} {task.title}: {task.status.value}{reason}")
    lines += [f"  proposal {p.id} {p.title}: {p.status.value}" for p in found.proposals]
    return "\n".join(lines)


def task_named(found: InitiativeTree, title: str) -> Task:
    return next(t for t in found.tasks if t.title == title)


def statuses(found: InitiativeTree) -> dict[str, TaskStatus]:
    return {t.title: t.status for t in found.tasks}


async def accept_all(client: DaemonClient, proposals: list[Proposal]) -> list[Proposal]:
    return [
        await client.call(Requests.PROPOSALS_ACCEPT, ProposalAcceptParams(proposal_id=p.id))
        for p in proposals
    ]
