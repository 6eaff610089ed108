"""A team on a real PostgreSQL for tests: an origin repository whose settings name the team's
database, project and workers, clones of it (worker machines, laptops, a gateway's machine),
real ``devfactory worker`` processes, and waiting for the database to show a row."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cli_support import CALC, DEVFACTORY, cli_env
from support import git, make_git_repo

if TYPE_CHECKING:
    from devfactory.storage.postgresql import PostgresStore

LEASE_S = 3
"""The workers' run lease: short, so a killed worker's run is taken over within seconds."""


def team_origin(folder: Path, url: str) -> Path:
    """A repository whose settings name the team's database, project and workers."""
    origin = make_git_repo(folder, {"calc.py": CALC})
    (origin / "devfactory.toml").write_text(
        f'storage = "{url}"\n[index]\nenabled = false\n[team]\nproject = "calc"\nworkers = true\n'
    )
    git(origin, "add", "devfactory.toml")
    git(origin, "commit", "-qm", "team settings")
    return origin


def team_clone(origin: Path, folder: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(folder))
    git(folder, "config", "user.name", "Test")
    git(folder, "config", "user.email", "test@example.invalid")
    return folder


@contextlib.contextmanager
def workers(clone: Path, logs: Path, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` ``devfactory worker`` processes on ``clone`` (one run slot each, logging
    under ``logs``), stopped when the block ends."""
    started = []
    try:
        for n in range(count):
            log = (logs / f"worker-{n}.log").open("wb")
            started.append(
                subprocess.Popen(
                    [
                        DEVFACTORY,
                        "worker",
                        "-w",
                        str(clone),
                        "--slots",
                        "1",
                        "--lease-seconds",
                        str(LEASE_S),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=cli_env(),
                )
            )
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def poll(
    store: PostgresStore, sql: str, params: tuple[object, ...], timeout: float = 90
) -> dict[str, object]:
    """The first row ``sql`` returns, waiting for one."""
    for _ in range(int(timeout * 10)):
        row = await store.db.fetchone(sql, params)
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"no row for {sql} {params}")
