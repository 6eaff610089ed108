"""Options shared by the CLI's commands."""

from __future__ import annotations

from pathlib import Path

import click

WORKSPACE = click.option(
    "--workspace",
    "-w",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The workspace folder the daemon serves.",
)
