"""A team on a real PostgreSQL for tests: an origin repository whose settings name the team's
database, project and workers, clones of it (worker machines, laptops, a gateway's machine),
real ``devfactory worker`` processes, and waiting for the database to show a row."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cli_support import CALC, DEVFACTORY, cli_env
from devfactory.protocol.enums import EventType
from support import git, make_git_repo, trust_workspace

if TYPE_CHECKING:
    from devfactory.server.team.authority import Authority
    from devfactory.storage import Store
    from devfactory.storage.postgresql import PostgresStore


async def project_authority(store: Store, root: str = "/w") -> Authority:
    """An ``Authority`` of a project registered at ``root``."""
    from devfactory.server.team.authority import Authority

    project = await store.projects.register(
        root_path=root, name=root, slug="w", default_branch=None, current_branch=None
    )
    return Authority(store, project.id)


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
    return trust_workspace(origin)


def team_clone(origin: Path, folder: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(folder))
    git(folder, "config", "user.name", "Test")
    git(folder, "config", "user.email", "test@example.invalid")
    return trust_workspace(folder)


@contextlib.contextmanager
def workers(clone: Path, logs: Path, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` ``devfactory worker`` processes on ``clone`` (one run slot each, logging
    under ``logs``), stopped when the block ends."""
    started = []
    failed = False
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
    except BaseException:
        failed = True
        raise
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if failed:  # what each worker did, in the failed test's captured output
            for n, process in enumerate(started):
                text = (logs / f"worker-{n}.log").read_text("utf-8", "replace")
                tail = "\n".join(text.splitlines()[-80:])
                print(f"--- worker {n} (pid {process.pid}, exit {process.returncode}):\n{tail}")


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


async def stop_lease_holder(
    store: PostgresStore,
    run_id: int,
    processes: list[subprocess.Popen[bytes]],
    signal_number: int,
    after: EventType = EventType.CHANGE_PROPOSED,
) -> tuple[dict[str, object], int]:
    """Once the run recorded ``after`` (proposing its change; ``file_updated`` once the
    proposal is stored too), while its worker waits on the script's gate, stop the worker
    holding its lease and wait until it is gone. The run's lease row as it was held
    (``lease_owner``, ``lease_epoch``, ``status``) and the stopped worker's pid."""
    await poll(
        store,
        "SELECT 1 FROM agent_events WHERE run_id = %s AND type = %s",
        (run_id, after.value),
    )
    held = await store.db.fetchone(
        "SELECT lease_owner, lease_epoch, status FROM agent_runs WHERE id = %s", (run_id,)
    )
    assert held is not None
    victim = int(str(held["lease_owner"]).rsplit(":", 1)[1])
    (stopped,) = [p for p in processes if p.pid == victim]
    os.kill(victim, signal_number)
    await asyncio.to_thread(stopped.wait, 60)  # gone before the run may go on
    return held, victim
