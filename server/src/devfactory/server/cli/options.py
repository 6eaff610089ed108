"""Options shared by the CLI's commands."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

WORKSPACE = click.option(
    "--workspace",
    "-w",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The workspace folder the daemon serves.",
)


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that refuses ``nan`` and ``inf`` too: every comparison with nan is false,
    so click's range lets it through, and a limit of either is never reached."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number.", param, ctx)
        return number
