"""``devfactory demo --factory``: an initiative from goal to applied result, offline.

On the demo's sample calculator, the goal becomes a specification (the analyst) and a plan
of two phases and three tasks (the architect); the plan is accepted, the first phase's task
fixes ``add()``, the second phase's two tasks run in parallel on their own branches, their
branches merge into ``df/<slug>``, each phase is reviewed (approved for you) and the result is
applied to the sample project behind one snapshot. Only the models' turns are scripted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devfactory.protocol.enums import InitiativeMode
from devfactory.protocol.initiatives import Initiative, InitiativeCreateParams, InitiativeTree
from devfactory.protocol.methods import Requests

from .client import connect, run_async

GOAL = "Calculator 2.0\nFix add(), add power(), and document how to use the calculator."
POWER = (
    '"""Powers."""\n\n\ndef power(base: float, exponent: int) -> float:\n'
    "    return base**exponent\n"
)
POWER_TEST = "from power import power\n\n\ndef test_power():\n    assert power(2, 3) == 8\n"
USAGE = "# Using calc\n\n- `add(a, b)`: the sum\n- `power(base, exponent)`: base to the exponent\n"


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _agent(match: str, plan: str, *calls: dict[str, Any], summary: str, think: float = 0) -> Any:
    turns = [{"text": plan, "delayS": think}, *({"toolCalls": [c]} for c in calls)]
    turns.append({"toolCalls": [_call("finish", summary=summary)]})
    return {"match": match, "turns": turns}


def _task(title: str) -> str:
    return f": {title}\n\n# Initiative"


def factory_script() -> dict[str, Any]:
    """Every agent's turns, each picked by what its run is told first."""
    spec = {
        "core_idea": "A small, correct calculator with documentation",
        "requirements": ["add() adds", "power() raises to an integer power", "a usage page"],
        "user_stories": ["As a user I read USAGE.md and call add() and power()"],
        "high_level_features": ["arithmetic", "documentation"],
    }
    plan = {
        "architecture": "one module per operation, tests next to them",
        "tech_stack": ["python", "pytest"],
        "task_breakdown": [
            {"key": "fix", "title": "Fix add()", "phase": "Fix", "agent": "backend"},
            {
                "key": "power",
                "title": "Add power()",
                "phase": "Extend",
                "agent": "backend",
                "depends_on": ["fix"],
            },
            {
                "key": "docs",
                "title": "Document the calculator",
                "phase": "Extend",
                "agent": "documentation",
                "depends_on": ["fix"],
            },
        ],
    }
    return {
        "conversations": [
            _agent(
                "Specify: Calculator 2.0",
                "1. Read calc.py\n2. Specify",
                _call("read_file", path="calc.py"),
                _call("submit_handoff", schema="software_specification", content=spec),
                summary="Specified: fix add(), add power(), a usage page",
            ),
            _agent(
                "Plan: Calculator 2.0",
                "1. Read the specification\n2. Plan two phases",
                _call("submit_handoff", schema="implementation_plan", content=plan),
                summary="Planned: Fix (1 task), then Extend (2 tasks in parallel)",
            ),
            _agent(
                _task("Fix add()"),
                "1. Fix add() in calc.py",
                _call("edit_file", path="calc.py", search="return a - b", replace="return a + b"),
                summary="add() returns a + b",
            ),
            _agent(
                _task("Add power()"),
                "1. Write power.py and its test",
                _call("write_file", path="power.py", content=POWER),
                _call("write_file", path="test_power.py", content=POWER_TEST),
                summary="power(base, exponent) in power.py, tested",
                think=0.5,
            ),
            _agent(
                _task("Document the calculator"),
                "1. Write USAGE.md",
                _call("write_file", path="USAGE.md", content=USAGE),
                summary="USAGE.md documents add() and power()",
                think=0.5,
            ),
        ]
    }


def run_factory_demo(project: Path, folder: Path, interactive: bool) -> None:
    """Drive an initiative on ``project`` (the demo's sample project, made in ``folder``)."""
    from rich.console import Console

    from .factory_render import initiative_tree
    from .factory_session import Driver

    console = Console(highlight=False)
    (project / "devfactory.toml").write_text("max_concurrent_runs = 2\n[index]\nenabled = false\n")
    script = folder / "factory-script.json"
    script.write_text(json.dumps(factory_script(), indent=1))
    console.print(f"Sample project: [bold]{project}[/]\nGoal: [bold]{GOAL.splitlines()[1]}[/]\n")
    params = InitiativeCreateParams(
        goal=GOAL,
        mode=InitiativeMode.REVIEW_PER_PHASE,
        provider="scripted",
        model=str(script),
    )

    async def go() -> InitiativeTree:
        async with connect(project) as client:
            initiative: Initiative = await client.call(Requests.INITIATIVES_CREATE, params)
            console.print(f"Initiative {initiative.id} on branch [bold]{initiative.branch}[/]")
            driver = Driver(client, console, automatic=not interactive)
            return await driver.drive(initiative.id)

    found = run_async(go)
    console.print()
    console.print(initiative_tree(found))
    console.print(
        f"\nThe result is in {project}: [bold]cd {project} && git status[/], then "
        f"[bold]python -m pytest -q[/]\nSee it again: [bold]devfactory initiative "
        f"{found.initiative.id} -w {project}[/]"
    )
