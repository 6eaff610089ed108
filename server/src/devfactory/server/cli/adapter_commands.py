"""``devfactory acp`` and ``devfactory mcp``: DevFactory in the ecosystem's agent protocols.

Both serve on stdio for a program that starts them (an ACP editor, an MCP client) and drive a
child daemon. The SDKs they are built on load only when one of them runs.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..event_loop import run_service
from .options import WORKSPACE


def _log_to_stderr() -> None:
    """stdout is the protocol channel: logs go to stderr, which clients keep."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@click.command("mcp")
@WORKSPACE
@click.option(
    "--allow-runs",
    is_flag=True,
    help="Also offer create_run (default: the mcp.allowRunCreation setting, else read-only).",
)
def mcp_command(workspace: Path, allow_runs: bool) -> None:
    """Serve the workspace's index, project map and run history over MCP on stdio."""
    _log_to_stderr()
    from ..adapters.mcp.server import serve
    from ..config import load_settings
    from .client import clean_exits

    settings, _ = load_settings(workspace.resolve(), None)
    allowed = allow_runs or settings.mcp.allow_run_creation
    with clean_exits():
        run_service(serve(workspace.resolve(), allow_runs=allowed))


@click.command("acp")
def acp_command() -> None:
    """Serve the Agent Client Protocol on stdio (Zed, JetBrains, Emacs, Neovim start this).

    Each session works on the folder the client names (its cwd), through a daemon of its own.
    """
    _log_to_stderr()
    from ..adapters.acp.agent import serve

    run_service(serve())
