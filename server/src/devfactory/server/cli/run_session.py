"""What ``devfactory run|runs|events|approve|reject`` do, once a command is chosen.

Kept apart from the click definitions (``run_commands.py``) so that ``devfactory serve``,
which imports every command to build the CLI, never pays for rich and the timeline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
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
from devfactory.protocol.enums import RunStatus
from devfactory.protocol.errors import RpcError
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunCreateParams, RunIdParams, RunList, RunListParams

from .client import connect, request, run_async
from .follow import LiveRun, answerer, budget_decider, poll_run, replay
from .snapshot_commands import undo_hint
from .timeline import Timeline, changes_table, runs_table, status_text

console = Console(highlight=False)


async def start_run(
    client: DaemonClient, params: RunCreateParams, *, automatic: bool, timeline: Timeline
) -> Run:
    """Create the run and show it to its end; Ctrl+C (or an unanswered question) cancels it."""
    live = LiveRun(
        client,
        timeline,
        answerer(console, automatic=automatic),
        budget_decider(console, automatic=automatic),
    )
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
    console.print(f"\nApply them: [bold]devfactory approve {run.id}{where}[/]", soft_wrap=True)
    console.print(f"Drop them:  [bold]devfactory reject {run.id}{where}[/]", soft_wrap=True)
    return len(found.changes)


async def follow_iteration(
    client: DaemonClient,
    run_id: int,
    workspace: Path,
    send: Callable[[], Awaitable[Run]],
    *,
    automatic: bool,
) -> Run | None:
    """``send`` something that may start the run's next iteration (a follow-up, review
    feedback) and follow that iteration to its end; None when the run was live and took it as
    a directive or an answer."""
    before: Run = await client.call(Requests.RUNS_GET, RunIdParams(run_id=run_id))
    live = LiveRun(
        client,
        Timeline(console),
        answerer(console, automatic=automatic),
        budget_decider(console, automatic=automatic),
    )
    live.last_id = max((e.id for e in await replay(client, run_id)), default=0)
    live.follow(run_id)
    run = await send()
    if not before.status.is_terminal:
        return None
    console.print(
        f"[bold]Run {run.id}[/], iteration {run.metadata.iteration}: {status_text(run.status)}"
    )
    finished = await live.finished()
    await show_changes(client, finished, workspace)
    return finished


def end_of(run: Run) -> None:
    """Say how the run ended; exit with status 1 unless it completed."""
    console.print(f"\nRun {run.id} {status_text(run.status)}")
    if run.status is not RunStatus.COMPLETED:
        reason = run.failed_reason or run.status.value
        raise click.ClickException(f"run {run.id} {run.status.value}: {reason}")


def run_and_review(params: RunCreateParams, workspace: Path, *, automatic: bool) -> None:
    async def go() -> Run:
        async with connect(workspace) as client:
            run = await start_run(client, params, automatic=automatic, timeline=Timeline(console))
            await show_changes(client, run, workspace)
            return run

    end_of(run_async(go))


def list_runs(workspace: Path, limit: int, as_json: bool) -> None:
    found: RunList = request(workspace, Requests.RUNS_LIST, RunListParams(limit=limit))
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(found.runs), indent=2))
    elif not found.runs:
        console.print('No runs yet: start one with [bold]devfactory run "…"[/]')
    else:
        console.print(runs_table(found.runs))
        total = found.total_usage
        cost = "no known price" if total.cost_usd is None else f"${total.cost_usd:.4f}"
        console.print(
            f"[dim]All runs of the project: {total.input_tokens + total.output_tokens} tokens, "
            f"{cost}[/]"
        )


class JsonLines(Timeline):
    """The timeline as one JSON event per line (for scripts); streamed text is left out."""

    def stream(self, delta: str) -> None:
        return None

    def event(self, event: object) -> None:
        self.console.out(msgspec.json.encode(event).decode(), highlight=False)


def show_events(run_id: int, workspace: Path, *, follow: bool, as_json: bool) -> None:
    timeline = JsonLines(Console(soft_wrap=True)) if as_json else Timeline(console)

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


def decide(method: str, verb: str, run_id: int, comment: str | None, workspace: Path) -> None:
    """Approve or reject every proposed change of a run; exits 1 when one is left in conflict
    (the user's file changed since the run read it), naming where the run's version is."""

    async def go() -> tuple[ChangeDecisionResult, Run]:
        async with connect(workspace) as client:
            params = ChangeDecisionParams(run_id=run_id, comment=comment)
            result: ChangeDecisionResult = await client.call(method, params)
            run: Run = await client.call(Requests.RUNS_GET, RunIdParams(run_id=run_id))
            return result, run

    result, run = run_async(go)
    if not result.changes:
        console.print(f"Run {run_id} has no proposed changes to {verb}.")
        return
    console.print(changes_table(result.changes))
    if result.applied:
        console.print(f"[green]{len(result.applied)} applied[/] to {workspace.resolve()}")
    if result.snapshot_id is not None:
        console.print(undo_hint(result.snapshot_id, "this apply", workspace))
    if result.conflicts:
        conflicted = [c.path for c in result.changes if c.id in result.conflicts]
        console.print(
            f"[yellow]{len(conflicted)} in conflict[/]: you changed these files since the run"
            f" read them, and your edits were kept. The run's versions are in {run.worktree_path}:"
            f" merge them by hand, or drop them with devfactory reject {run_id}."
        )
        for path in conflicted:
            console.print(f"  {path}", markup=False)
        raise SystemExit(1)
