"""``devfactory run|runs|events|approve|reject``: agent runs from the terminal.

Each command starts a daemon for the workspace over stdio (``cli.client.connect``) and speaks
the same protocol an editor does: ``devfactory/runs/*``, ``devfactory/events``,
``devfactory/hitl/respond`` and ``devfactory/changes/*``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
import msgspec
from rich.console import Console

from devfactory.protocol.changes import (
    ChangeDecisionParams,
    ChangeDecisionResult,
    ChangeList,
    ChangesListParams,
)
from devfactory.protocol.client import DaemonClient
from devfactory.protocol.enums import AgentRole, ExecutionMode, RunStatus
from devfactory.protocol.errors import RpcError
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunCreateParams, RunIdParams, RunList, RunListParams

from .client import connect, run_async
from .follow import LiveRun, answerer, poll_run, replay
from .timeline import Timeline, changes_table, runs_table, status_text

console = Console(highlight=False)

WORKSPACE = click.option(
    "--workspace",
    "-w",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The workspace folder the daemon serves.",
)
RUN_ID = click.argument("run_id", metavar="RUN", type=int)


def script_path(provider: str | None, model: str | None) -> str | None:
    """A scripted provider's script named relative to the current folder, made absolute."""
    if provider == "scripted" and model and Path(model).is_file():
        return str(Path(model).resolve())
    return model


async def start_run(
    client: DaemonClient, params: RunCreateParams, *, automatic: bool, timeline: Timeline
) -> Run:
    """Create the run and show it to its end; Ctrl+C (or an unanswered question) cancels it."""
    live = LiveRun(client, timeline, answerer(console, automatic=automatic))
    run: Run = await client.call(Requests.RUNS_CREATE, params)
    console.print(f"[bold]Run {run.id}[/]: {run.title}  [dim]({run.provider})[/]")
    live.follow(run.id)
    try:
        return await live.finished()
    except (asyncio.CancelledError, click.ClickException, click.Abort, EOFError):
        console.print(f"\n[yellow]Cancelling run {run.id}…[/]")
        await client.call(Requests.RUNS_CANCEL, RunIdParams(run_id=run.id))
        raise


async def show_changes(client: DaemonClient, run: Run, workspace: Path) -> int:
    """List the run's proposed changes and how to decide on them; returns how many."""
    try:
        found: ChangeList = await client.call(
            Requests.CHANGES_LIST, ChangesListParams(run_id=run.id)
        )
    except RpcError as exc:
        console.print(f"[dim]No change review in this daemon ({exc.message}).[/]")
        return 0
    if not found.changes:
        console.print("No changes proposed.")
        return 0
    console.print(f"\n[bold]Proposed changes of run {run.id}[/]")
    console.print(changes_table(found.changes))
    where = "" if workspace.resolve() == Path.cwd().resolve() else f" -w {workspace}"
    console.print(
        f"\nApply them: [bold]devfactory approve {run.id}{where}[/]   "
        f"Drop them: [bold]devfactory reject {run.id}{where}[/]"
    )
    return len(found.changes)


def end_of(run: Run) -> None:
    """Say how the run ended; exit with status 1 unless it completed."""
    console.print(f"\nRun {run.id} {status_text(run.status)}")
    if run.status is not RunStatus.COMPLETED:
        reason = run.failed_reason or run.status.value
        raise click.ClickException(f"run {run.id} {run.status.value}: {reason}")


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
@click.option("--yes", "-y", is_flag=True, help="Answer the agent's questions automatically.")
@WORKSPACE
def run_command(
    prompt: str,
    provider: str | None,
    model: str | None,
    agent: str,
    mode: str,
    yes: bool,
    workspace: Path,
) -> None:
    """Run an agent on PROMPT in WORKSPACE and stream its timeline.

    The run works in its own git worktree; its changes wait for your approval.
    """
    params = RunCreateParams(
        prompt=prompt,
        provider=provider,
        model=script_path(provider, model),
        agent=AgentRole(agent),
        mode=ExecutionMode(mode),
    )

    async def go() -> Run:
        async with connect(workspace) as client:
            run = await start_run(client, params, automatic=yes, timeline=Timeline(console))
            await show_changes(client, run, workspace)
            return run

    end_of(run_async(go))


@click.command("runs")
@WORKSPACE
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
def runs_command(workspace: Path, limit: int, as_json: bool) -> None:
    """List the workspace's runs, newest first."""

    async def go() -> RunList:
        async with connect(workspace) as client:
            found: RunList = await client.call(Requests.RUNS_LIST, RunListParams(limit=limit))
            return found

    found = run_async(go)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(found.runs), indent=2))
    elif not found.runs:
        console.print('No runs yet: start one with [bold]devfactory run "…"[/]')
    else:
        console.print(runs_table(found.runs))


@click.command("events")
@RUN_ID
@click.option("--follow", "-f", is_flag=True, help="Keep following until the run ends.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event per line.")
@WORKSPACE
def events_command(run_id: int, follow: bool, as_json: bool, workspace: Path) -> None:
    """Print the timeline of run RUN (replayed from the database), then follow it."""
    if as_json:
        json_console = Console(highlight=False, soft_wrap=True)
        timeline = Timeline(json_console)
        timeline.event = lambda event: json_console.out(  # type: ignore[method-assign]
            msgspec.json.encode(event).decode()
        )
    else:
        timeline = Timeline(console)

    async def go() -> Run:
        async with connect(workspace) as client:
            run: Run = await client.call(Requests.RUNS_GET, RunIdParams(run_id=run_id))
            since = 0
            for event in await replay(client, run_id):
                timeline.event(event)
                since = event.id
            if follow and not run.status.is_terminal:
                # The run is driven by another daemon (an editor's): its notifications do not
                # reach us, its events reach the shared database.
                run = await poll_run(client, run_id, timeline, since)
            return run

    run = run_async(go)
    if not as_json:
        console.print(f"Run {run.id} is {status_text(run.status)}")


def _decide(method: str, verb: str) -> click.Command:
    @click.command(verb)
    @RUN_ID
    @click.option("--comment", "-m", help="Why (kept with the decision).")
    @WORKSPACE
    def decide(run_id: int, comment: str | None, workspace: Path) -> None:
        async def go() -> ChangeDecisionResult:
            async with connect(workspace) as client:
                result: ChangeDecisionResult = await client.call(
                    method, ChangeDecisionParams(run_id=run_id, comment=comment)
                )
                return result

        result = run_async(go)
        if not result.changes:
            console.print(f"Run {run_id} has no proposed changes to {verb}.")
            return
        console.print(changes_table(result.changes))
        if result.applied:
            console.print(f"[green]{len(result.applied)} applied[/] to {workspace.resolve()}")
        if result.conflicts:
            console.print(
                f"[yellow]{len(result.conflicts)} in conflict[/]: your edits were kept; "
                "resolve them in the editor"
            )
        if result.snapshot_id is not None:
            console.print(f"[dim]Snapshot {result.snapshot_id} undoes this apply.[/]")

    decide.help = f"{verb.capitalize()} every proposed change of run RUN."
    return decide


approve_command = _decide(Requests.CHANGES_APPROVE, "approve")
reject_command = _decide(Requests.CHANGES_REJECT, "reject")

COMMANDS = [run_command, runs_command, events_command, approve_command, reject_command]
