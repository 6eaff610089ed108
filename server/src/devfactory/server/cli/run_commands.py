"""``devfactory run|runs|events|approve|reject``: agent runs from the terminal.

Each command starts a daemon for the workspace over stdio (``cli.client.connect``) and speaks
the same protocol an editor does: ``devfactory/runs/*``, ``devfactory/events``,
``devfactory/hitl/respond`` and ``devfactory/changes/*``. The work is in ``run_session``,
imported when a command runs, so the CLI (and ``devfactory serve``) loads fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from devfactory.protocol.enums import AgentRole, ExecutionMode
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import RunCreateParams

from .options import WORKSPACE, FiniteFloatRange

RUN_ID = click.argument("run_id", metavar="RUN", type=int)


def script_path(provider: str | None, model: str | None) -> str | None:
    """A scripted provider's script named relative to the current folder, made absolute."""
    if provider == "scripted" and model and Path(model).is_file():
        return str(Path(model).resolve())
    return model


@click.command("run")
@click.argument("prompt")
@click.option("--provider", help="Model provider (default: the defaultProvider setting).")
@click.option("--model", help="Model name (for scripted: the script file).")
@click.option(
    "--agent",
    type=click.Choice([role.value for role in AgentRole]),
    default=AgentRole.BACKEND.value,
    show_default=True,
)
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in ExecutionMode]),
    default=ExecutionMode.REVIEW.value,
    show_default=True,
    help="review: changes wait for approve; yolo: applied when the run completes.",
)
@click.option(
    "--plan", is_flag=True, help="Plan mode: read-only until you approve the agent's plan."
)
@click.option(
    "--max-cost", type=FiniteFloatRange(min=0, min_open=True), help="Pause at this many USD."
)
@click.option("--max-tokens", type=click.IntRange(min=1), help="Pause at this many tokens.")
@click.option("--yes", "-y", is_flag=True, help="Answer the agent's questions automatically.")
@WORKSPACE
def run_command(
    prompt: str,
    provider: str | None,
    model: str | None,
    agent: str,
    mode: str,
    plan: bool,
    max_cost: float | None,
    max_tokens: int | None,
    yes: bool,
    workspace: Path,
) -> None:
    """Run an agent on PROMPT in WORKSPACE and stream its timeline.

    The run works in its own git worktree; its changes wait for your approval. @path and
    @symbol in PROMPT attach that file or definition.
    """
    from .run_session import run_and_review

    params = RunCreateParams(
        prompt=prompt,
        provider=provider,
        model=script_path(provider, model),
        agent=AgentRole(agent),
        mode=ExecutionMode(mode),
        plan=plan,
        max_cost_usd=max_cost,
        max_tokens=max_tokens,
    )
    run_and_review(params, workspace, automatic=yes)


@click.command("runs")
@WORKSPACE
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
def runs_command(workspace: Path, limit: int, as_json: bool) -> None:
    """List the workspace's runs, newest first."""
    from .run_session import list_runs

    list_runs(workspace, limit, as_json)


@click.command("events")
@RUN_ID
@click.option("--follow", "-f", is_flag=True, help="Keep following until the run ends.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
@WORKSPACE
def events_command(run_id: int, follow: bool, as_json: bool, workspace: Path) -> None:
    """Print the timeline of run RUN (replayed from the database), then follow it."""
    from .run_session import show_events

    show_events(run_id, workspace, follow=follow, as_json=as_json)


def _decision(method: str, verb: str) -> click.Command:
    @click.command(verb, help=f"{verb.capitalize()} every proposed change of run RUN.")
    @RUN_ID
    @click.option("--comment", "-m", help="Why (kept with the decision).")
    @WORKSPACE
    def decision(run_id: int, comment: str | None, workspace: Path) -> None:
        from .run_session import decide

        decide(method, verb, run_id, comment, workspace)

    return decision


approve_command = _decision(Requests.CHANGES_APPROVE, "approve")
reject_command = _decision(Requests.CHANGES_REJECT, "reject")

COMMANDS = [run_command, runs_command, events_command, approve_command, reject_command]
