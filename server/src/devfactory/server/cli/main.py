"""``devfactory``: serve the daemon, or drive one from the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import click
import msgspec

from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health

from ..version import __version__
from .client import connect, run_async
from .options import WORKSPACE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="devfactory")
def main() -> None:
    """DevFactory: an editor-native AI coding-agent daemon."""


@main.command()
@click.option("--stdio", is_flag=True, default=True, help="Speak LSP over stdin/stdout (default).")
def serve(stdio: bool) -> None:
    """Start the daemon as a language server on stdio (editors run this)."""
    from ..logs import configure_startup_logging

    configure_startup_logging()
    from ..app import create_server

    create_server().start_io()


@main.command()
def version() -> None:
    """Print the version."""
    click.echo(f"devfactory {__version__}")


@main.command()
@WORKSPACE
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
def health(workspace: Path, as_json: bool) -> None:
    """Start a daemon for WORKSPACE and print its health."""

    async def go() -> Health:
        async with connect(workspace) as client:
            result: Health = await client.call(Requests.HEALTH)
            return result

    result = run_async(go)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(result), indent=2))
        return
    from .render import render_health

    render_health(result)


from .index_commands import index_command, map_command, search_command  # noqa: E402

main.add_command(index_command)
main.add_command(search_command)
main.add_command(map_command)

from .run_commands import COMMANDS as RUN_COMMANDS  # noqa: E402

for command in RUN_COMMANDS:
    main.add_command(command)

from .review_commands import COMMANDS as REVIEW_COMMANDS  # noqa: E402

for command in REVIEW_COMMANDS:
    main.add_command(command)

from .talk_commands import COMMANDS as TALK_COMMANDS  # noqa: E402

for command in TALK_COMMANDS:
    main.add_command(command)

from .demo import demo_command  # noqa: E402

main.add_command(demo_command)

from .adapter_commands import acp_command, mcp_command  # noqa: E402

main.add_command(acp_command)
main.add_command(mcp_command)
