"""``devfactory demo``: the whole loop on a sample project, offline, in under a minute.

It makes a small git project whose ``add()`` subtracts (so its test fails), and runs the
scripted agent on it through a real daemon: search, read, plan, run the tests (red), edit, run
them again (green), one question, a summary. Then it approves the proposed change, so the
sample project's file is fixed, behind a snapshot that undoes it. Only the model's turns are
scripted; the daemon, worktree, tools, commands, events and review are the real ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click

from devfactory.protocol.changes import ChangeDecisionParams, ChangeDecisionResult
from devfactory.protocol.client import DaemonClient
from devfactory.protocol.errors import RpcError
from devfactory.protocol.index import IndexRebuildParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunCreateParams

from ..wording import plural
from .client import connect, run_async
from .snapshot_commands import undo_hint

PROMPT = "The test of add() fails: find out why and fix it."
TESTS = "python -m pytest -q"

SAMPLE_FILES = {
    "calc.py": '"""A tiny calculator."""\n\n\n'
    "def add(a: float, b: float) -> float:\n"
    '    """The sum of a and b."""\n'
    "    return a - b\n\n\n"
    "def multiply(a: float, b: float) -> float:\n"
    "    return a * b\n",
    "test_calc.py": "from calc import add, multiply\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_multiply():\n    assert multiply(2, 3) == 6\n",
    "README.md": "# calc\n\nA tiny calculator. Run its tests with `python -m pytest`.\n",
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
    # DevFactory's own environment has pytest-asyncio, which warns when this is unset.
    "pytest.ini": "[pytest]\nasyncio_default_fixture_loop_scope = function\n",
}


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def demo_script() -> dict[str, Any]:
    """The model's turns, for the scripted provider (first turn: the plan)."""
    plan = (
        "1. Find add() in the code\n2. Read calc.py\n3. Run the tests to see the failure\n"
        "4. Fix add()\n5. Run the tests again\n6. Ask you how to describe the fix\n"
        "7. Summarize"
    )
    turns: list[dict[str, Any]] = [
        {"text": plan, "delayS": 0.3},
        {"text": "Looking for add().", "toolCalls": [_call("search_code", query="def add")]},
        {"toolCalls": [_call("read_file", path="calc.py")]},
        {
            "text": "Running the tests before changing anything.",
            "toolCalls": [_call("run_command", command=TESTS)],
            "delayS": 0.2,
        },
        {
            "text": "add() returns a - b: it subtracts. Fixing it.",
            "toolCalls": [
                _call("edit_file", path="calc.py", search="return a - b", replace="return a + b")
            ],
        },
        {"text": "Checking the fix.", "toolCalls": [_call("run_command", command=TESTS)]},
        {
            "toolCalls": [
                _call(
                    "ask_user",
                    question="The tests pass. How should the changelog describe this?",
                    choices=["bug fix", "behaviour change"],
                )
            ]
        },
        {"text": "Noted, recorded as:", "quoteLast": True},
        {
            "toolCalls": [
                _call(
                    "finish",
                    summary="Fixed add() in calc.py: it subtracted instead of adding. "
                    "The tests in test_calc.py pass.",
                )
            ]
        },
    ]
    return {"turns": turns}


def make_sample_project(folder: Path) -> Path:
    """A git repository with a failing test under ``folder``; returns its path.

    An existing one is refused rather than reused: an earlier demo left it fixed, and it
    could as well be the user's own folder.
    """
    project = folder / "calc"
    try:
        project.mkdir(parents=True)
    except FileExistsError:
        raise click.ClickException(
            f"{project} already exists (an earlier demo?): delete it, or pass another --dir"
        ) from None
    for name, text in SAMPLE_FILES.items():
        (project / name).write_text(text)
    identity = {
        "GIT_AUTHOR_NAME": "DevFactory demo",
        "GIT_AUTHOR_EMAIL": "demo@localhost",
        "GIT_COMMITTER_NAME": "DevFactory demo",
        "GIT_COMMITTER_EMAIL": "demo@localhost",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "calc"]):
        subprocess.run(["git", *args], cwd=project, check=True, env={**os.environ, **identity})
    return project


async def index_first(client: DaemonClient) -> None:
    """Bring the index up to date so the agent's search finds add() (skipped without one)."""
    try:
        await client.call(Requests.INDEX_REBUILD, IndexRebuildParams())
    except RpcError as exc:
        click.echo(f"Code search unavailable here: {exc.message}")


@click.command("demo")
@click.option(
    "--dir",
    "where",
    type=click.Path(file_okay=False, path_type=Path),
    help="Make the sample project here (default: a new temporary folder).",
)
@click.option("--interactive", "-i", is_flag=True, help="Answer the agent's question yourself.")
@click.option(
    "--factory",
    is_flag=True,
    help="A whole initiative instead: specified, planned, run by role agents, reviewed.",
)
def demo_command(where: Path | None, interactive: bool, factory: bool) -> None:
    """Watch an agent fix a failing test in a sample project, then approve its change."""
    from .run_session import console, end_of, show_changes, start_run
    from .timeline import Timeline

    folder = Path(tempfile.mkdtemp(prefix="devfactory-demo-")) if where is None else where
    project = make_sample_project(folder.resolve())
    if factory:
        from .factory_demo import run_factory_demo

        run_factory_demo(project, folder.resolve(), interactive)
        return
    script = folder.resolve() / "demo-script.json"
    script.write_text(json.dumps(demo_script(), indent=1))
    console.print(f"Sample project: [bold]{project}[/] (add() subtracts, so its test fails)\n")
    params = RunCreateParams(prompt=PROMPT, provider="scripted", model=str(script))

    async def go() -> tuple[Run, ChangeDecisionResult | None]:
        async with connect(project) as client:
            await index_first(client)
            run = await start_run(
                client, params, automatic=not interactive, timeline=Timeline(console)
            )
            if not await show_changes(client, run, project):
                return run, None
            console.print(f"\n[bold]devfactory approve {run.id}[/] (the demo approves for you)")
            decided: ChangeDecisionResult = await client.call(
                Requests.CHANGES_APPROVE, ChangeDecisionParams(run_id=run.id)
            )
            return run, decided

    run, decided = run_async(go)
    end_of(run)
    if decided is not None:
        console.print(f"[green]{plural(len(decided.applied), 'change')} applied[/] to {project}")
        if decided.snapshot_id is not None:
            console.print(undo_hint(decided.snapshot_id, "the apply", project))
    fixed = "return a + b" in (project / "calc.py").read_text()
    console.print(
        f"\ncalc.py {'now adds' if fixed else 'was not changed'}. Look around: "
        f"[bold]cd {project} && git diff[/], then [bold]{TESTS}[/]\n"
        f"See the run again: [bold]devfactory events {run.id} -w {project}[/]"
    )
