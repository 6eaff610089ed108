"""``devfactory plan|initiatives|initiative``: the factory from the terminal.

``plan`` turns a goal into an initiative and drives it to its applied result, asking at the
prompt what the user decides (proposals, checkpoints, phase reviews, the result). The work is
in ``factory_session``, imported when a command runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import msgspec

from devfactory.protocol.enums import InitiativeMode
from devfactory.protocol.initiatives import (
    Initiative,
    InitiativeCreateParams,
    InitiativeIdParams,
    InitiativeList,
    InitiativeListParams,
    InitiativeTree,
)
from devfactory.protocol.methods import Requests

from .client import connect, request, run_async
from .options import WORKSPACE
from .run_commands import script_path

MODES = {"review": InitiativeMode.REVIEW_PER_PHASE, "yolo": InitiativeMode.YOLO}


@click.command("plan")
@click.argument("goal")
@click.option(
    "--mode",
    type=click.Choice(list(MODES)),
    default="review",
    show_default=True,
    help="review: you accept the plan and approve each phase; yolo: it all goes on its own.",
)
@click.option("--name", help="The initiative's name (default: the goal's first line).")
@click.option("--provider", help="Model provider of its agents (default: defaultProvider).")
@click.option("--model", help="Model name (for scripted: the script file).")
@click.option("--yes", "-y", is_flag=True, help="Accept, approve and apply without asking.")
@WORKSPACE
def plan_command(
    goal: str,
    mode: str,
    name: str | None,
    provider: str | None,
    model: str | None,
    yes: bool,
    workspace: Path,
) -> None:
    """Plan GOAL into phases and tasks that role agents carry out, and see it through."""
    from rich.console import Console

    from .factory_render import initiative_tree
    from .factory_session import Driver

    console = Console(highlight=False)
    params = InitiativeCreateParams(
        goal=goal,
        name=name,
        mode=MODES[mode],
        provider=provider,
        model=script_path(provider, model),
    )

    async def go() -> InitiativeTree:
        async with connect(workspace) as client:
            initiative: Initiative = await client.call(Requests.INITIATIVES_CREATE, params)
            console.print(
                f"Initiative [bold]{initiative.id}[/] on branch [bold]{initiative.branch}[/]"
            )
            return await Driver(client, console, automatic=yes).drive(initiative.id)

    console.print(initiative_tree(run_async(go)))


@click.command("initiatives")
@WORKSPACE
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
def initiatives_command(workspace: Path, as_json: bool) -> None:
    """List the workspace's initiatives, newest first."""
    found: InitiativeList = request(workspace, Requests.INITIATIVES_LIST, InitiativeListParams())
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(found.initiatives), indent=2))
        return
    from rich.console import Console

    from .factory_render import initiatives_table

    Console(highlight=False).print(initiatives_table(found.initiatives))


@click.command("initiative")
@click.argument("initiative_id", metavar="ID", type=int)
@click.option("--follow", "-f", is_flag=True, help="Watch it live until it is done.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
@WORKSPACE
def initiative_command(initiative_id: int, follow: bool, as_json: bool, workspace: Path) -> None:
    """The phase/task tree of initiative ID, with the runs behind its tasks."""
    from rich.console import Console

    from .factory_render import initiative_tree
    from .factory_session import Driver

    console = Console(highlight=False)
    params = InitiativeIdParams(initiative_id=initiative_id)

    async def go() -> InitiativeTree:
        async with connect(workspace) as client:
            if follow:
                return await Driver(client, console, watch_only=True).drive(initiative_id)
            found: InitiativeTree = await client.call(Requests.INITIATIVES_GET, params)
            return found

    found = run_async(go)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(found), indent=2))
        return
    console.print(initiative_tree(found))


COMMANDS = [plan_command, initiatives_command, initiative_command]
