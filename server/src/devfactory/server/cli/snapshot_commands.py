"""``devfactory snapshots|snapshot|restore``: the workspace's snapshots from the terminal, so the
"Snapshot N undoes this apply" that ``approve`` prints can be acted on without an editor.

``restore`` puts the workspace's files back as snapshot N held them, after a safety snapshot
of how they are now (which undoes the restore). A run's final and pre_command snapshots hold
its worktree, not the workspace: the daemon refuses them, and the list marks them. rich is
imported only when a command runs (``devfactory serve`` imports this module).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import msgspec

from devfactory.protocol.enums import SnapshotOrigin
from devfactory.protocol.methods import Requests
from devfactory.protocol.snapshots import (
    Snapshot,
    SnapshotCreateParams,
    SnapshotList,
    SnapshotListParams,
    SnapshotRestoreParams,
    SnapshotRestoreResult,
)

from ..wording import plural
from .client import request
from .options import WORKSPACE


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def undo_hint(snapshot_id: int, what: str, workspace: Path) -> str:
    """The dim line that names the snapshot undoing ``what`` and the command that restores it
    (with its workspace: run from another folder, ``restore N`` would be another's snapshot)."""
    from rich.markup import escape

    command = f"devfactory restore {snapshot_id} -w {workspace.resolve()}"
    return f"[dim]Snapshot {snapshot_id} undoes {what}: {escape(command)}[/]"


@click.command("snapshots")
@click.option("--run", "run_id", type=int, help="Only the snapshots of run RUN.")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Newest first."
)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
@WORKSPACE
def snapshots_command(run_id: int | None, limit: int, as_json: bool, workspace: Path) -> None:
    """List the workspace's snapshots, newest first (restore one with devfactory restore N)."""
    found: SnapshotList = request(
        workspace, Requests.SNAPSHOTS_LIST, SnapshotListParams(run_id=run_id, limit=limit)
    )
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(found.snapshots), indent=2))
    elif not found.snapshots:
        _console().print("No snapshots yet: take one with [bold]devfactory snapshot[/]")
    else:
        _console().print(_table(found.snapshots))


def _table(snapshots: list[Snapshot]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False)
    for column in ("snapshot", "type", "run", "description", "files", "created"):
        table.add_column(column, no_wrap=column != "description")
    for snapshot in snapshots:
        worktree = snapshot.origin is SnapshotOrigin.WORKTREE
        table.add_row(
            str(snapshot.id),
            snapshot.type.value + (" [dim](run's worktree)[/]" if worktree else ""),
            "-" if snapshot.run_id is None else str(snapshot.run_id),
            escape(snapshot.description),
            str(snapshot.files_changed),
            snapshot.created_at[:16].replace("T", " "),
        )
    return table


@click.command("snapshot")
@click.argument("description", required=False, default="")
@WORKSPACE
def snapshot_command(description: str, workspace: Path) -> None:
    """Take a snapshot of the workspace's files now (DESCRIPTION says why)."""
    taken: Snapshot = request(
        workspace, Requests.SNAPSHOTS_CREATE, SnapshotCreateParams(description=description)
    )
    _console().print(
        f"Snapshot [bold]{taken.id}[/] taken: {plural(taken.files_changed, 'file')} changed since"
        f" HEAD; [bold]devfactory restore {taken.id}[/] puts the workspace back as it is now"
    )


@click.command("restore")
@click.argument("snapshot_id", metavar="SNAPSHOT", type=click.IntRange(min=1))
@WORKSPACE
def restore_command(snapshot_id: int, workspace: Path) -> None:
    """Put the workspace's files back as SNAPSHOT held them (a safety snapshot undoes it)."""
    result: SnapshotRestoreResult = request(
        workspace, Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=snapshot_id)
    )
    console = _console()
    if not result.files:
        console.print(f"The workspace already matches snapshot {snapshot_id}; nothing changed.")
    else:
        count = len(result.files)
        console.print(f"Restored {count} file{'s' * (count != 1)} from snapshot {snapshot_id}:")
        for path in result.files:
            console.print(f"  {path}", markup=False)
    console.print(undo_hint(result.safety.id, "this restore", workspace))


COMMANDS = [snapshots_command, snapshot_command, restore_command]
