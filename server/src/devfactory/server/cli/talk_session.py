"""What ``devfactory message|rewind|rules`` do, once a command is chosen."""

from __future__ import annotations

import json
from pathlib import Path

import click
import msgspec
from rich.markup import escape

from devfactory.protocol.context import ProjectRules, ProjectRulesParams
from devfactory.protocol.enums import RunStatus
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import (
    Run,
    RunMessageParams,
    RunRewindParams,
    RunRewindResult,
)

from ..wording import plural
from .client import connect, request, run_async
from .run_session import console, end_of, follow_iteration


def send_message(run_id: int, text: str, workspace: Path, *, automatic: bool) -> None:
    """Message the run; a stopped run's next iteration is followed to its end."""

    async def go() -> Run | None:
        async with connect(workspace) as client:

            async def send() -> Run:
                run: Run = await client.call(
                    Requests.RUNS_MESSAGE, RunMessageParams(run_id=run_id, text=text)
                )
                return run

            return await follow_iteration(client, run_id, workspace, send, automatic=automatic)

    finished = run_async(go)
    if finished is None:
        console.print(f"Run {run_id} got the message.")
        return
    end_of(finished)


def rewind(run_id: int, step: int, workspace: Path) -> None:
    result: RunRewindResult = request(
        workspace, Requests.RUNS_REWIND, RunRewindParams(run_id=run_id, step=step)
    )
    where = "its start" if step == 0 else f"step {step}"
    console.print(f"Run {run_id} rewound to {where}: {plural(len(result.files), 'file')} put back")
    for path in result.files:
        console.print(f"  {escape(path)}")
    if result.run.status is not RunStatus.RUNNING:
        console.print(f'Go on from there: [bold]devfactory message {run_id} "…"[/]')


def show_rules(path: str | None, workspace: Path, *, as_json: bool) -> None:
    rules: ProjectRules = request(workspace, Requests.PROJECT_RULES, ProjectRulesParams(path=path))
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(rules), indent=2))
        return
    where = f"for {path}" if path else "for the whole project"
    if not rules.files:
        console.print(f"No project rules {where}.")
    else:
        console.print(f"[bold]Project rules {where}[/], lowest precedence first:")
        for file in rules.files:
            scope = f" (for {escape(file.applies_to)})" if file.applies_to else ""
            cut = " [yellow](cut)[/]" if file.truncated else ""
            size = f"[dim]{file.kind}, {file.chars} chars[/]"
            console.print(f"  {escape(file.path)}{scope}  {size}{cut}")
    for warning in rules.warnings:
        console.print(f"[yellow]![/] {escape(warning)}")
