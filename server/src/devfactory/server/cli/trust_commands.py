"""``devfactory trust``: review and trust what a workspace's own files set beyond the project's
settings (:mod:`..trust`): providers and their endpoints, commands and the sandbox, MCP
servers, the team gateway, the default mode; and its ``.devfactory/commands.toml``.

No daemon is needed: the record is the user's, in their config folder. A daemon already running
for the workspace reads the command policy again at once, its settings when it next starts.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import trust_review
from .options import WORKSPACE


@click.command("trust")
@WORKSPACE
@click.option("--yes", "-y", is_flag=True, help="Trust what is shown without asking.")
@click.option("--revoke", is_flag=True, help="Take the workspace's trust back.")
def trust_command(workspace: Path, yes: bool, revoke: bool) -> None:
    """Review and trust the workspace's settings that decide what runs as you or where your
    keys go (its devfactory.toml beyond the project's own settings, its command policy)."""
    root = workspace.resolve()
    if revoke:
        trust_review.revoke(root)
        click.echo(f"{root}: its own settings and command policy are no longer trusted.")
        return
    review = trust_review.status(root)
    if not review.sources:
        click.echo(f"{root} sets nothing that needs your trust.")
        return
    for source in review.sources:
        click.echo(click.style(source.path, bold=True))
        click.echo(source.text)
        click.echo("")
    if not yes and not click.confirm(
        "These run programs as you or choose where your keys go. Trust them for this workspace?"
    ):
        raise SystemExit(1)
    try:
        trust_review.grant(root, review.digest)
    except trust_review.TrustChanged as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        "Trusted: these exact settings apply (a change to them needs a new trust). A daemon"
        " already running here applies the command policy at once, the settings when it restarts."
    )
