"""``devfactory worker``: execute the team's runs on this machine (see ``team/worker.py``)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..event_loop import run_service
from .options import WORKSPACE, FiniteFloatRange


@click.command("worker")
@WORKSPACE
@click.option(
    "--slots", type=click.IntRange(1, 64), default=2, show_default=True,
    help="Runs this worker executes at once.",
)  # fmt: skip
@click.option(
    "--lease-seconds", type=FiniteFloatRange(1, 3600), default=30.0, show_default=True,
    help="How long a run's lease lasts without renewal: a dead worker's runs move to another "
    "worker this long after it stopped.",
)  # fmt: skip
def worker_command(workspace: Path, slots: int, lease_seconds: float) -> None:
    """Execute the team's runs on this machine, up to SLOTS at once.

    WORKSPACE is a clone of the project's repository whose devfactory.toml names the team's
    PostgreSQL storage (and [team] project). Stop with Ctrl-C: running segments finish or are
    handed back to the queue.
    """
    from ..errors import Unavailable
    from ..team.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    try:
        run_service(run_worker(workspace.resolve(), slots=slots, lease_s=lease_seconds))
    except Unavailable as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        pass
