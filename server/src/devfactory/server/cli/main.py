"""``devfactory``: serve the daemon, or drive one from the terminal."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import click

from ..version import __version__
from .options import WORKSPACE

#: Modules holding the terminal client's commands, with the names of their commands: loaded
#: only when one of them runs (or help lists them), so ``devfactory serve`` (what editors
#: start) imports none of them.
CLIENT_COMMANDS = {
    ".index_commands": ("index_command", "search_command", "map_command"),
    ".run_commands": ("COMMANDS",),
    ".review_commands": ("COMMANDS",),
    ".snapshot_commands": ("COMMANDS",),
    ".trust_commands": ("trust_command",),
    ".talk_commands": ("COMMANDS",),
    ".factory_commands": ("COMMANDS",),
    ".demo": ("demo_command",),
    ".adapter_commands": ("acp_command", "mcp_command"),
    ".worker_command": ("worker_command",),
    ".team_commands": ("COMMANDS",),
}


class Commands(click.Group):
    """The ``devfactory`` group: its own commands, plus the client's, loaded on first use."""

    loaded = False

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands:
            self._load()
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def _load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        for module_name, names in CLIENT_COMMANDS.items():
            module = importlib.import_module(module_name, __package__)
            for name in names:
                found = getattr(module, name)
                for command in found if isinstance(found, list) else [found]:
                    self.add_command(command)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="devfactory")
def main() -> None:
    """DevFactory: an editor-native AI coding-agent daemon."""


@main.command()
@click.option("--stdio", is_flag=True, default=True, help="Speak LSP over stdin/stdout (default).")
def serve(stdio: bool) -> None:
    """Start the daemon as a language server on stdio (editors run this)."""
    from .serve import serve

    serve()


@main.command()
def version() -> None:
    """Print the version."""
    click.echo(f"devfactory {__version__}")


@main.command()
@WORKSPACE
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON result.")
def health(workspace: Path, as_json: bool) -> None:
    """Start a daemon for WORKSPACE and print its health."""
    import msgspec

    from devfactory.protocol.methods import Requests
    from devfactory.protocol.project import Health

    from .client import connect, run_async

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
