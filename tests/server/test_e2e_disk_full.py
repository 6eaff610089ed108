"""A full disk over the real daemon: clear errors, a run that fails rather than stays running,
no command row left open, and a daemon that works again once space is freed.

The daemon gets a ceiling on its database (``DEVFACTORY_DB_MAX_PAGES``, SQLite's
``max_page_count``), so its writes fail with SQLite's real SQLITE_FULL. Another program fills
the disk by growing the database to that ceiling, and frees space by deleting its rows (the
pages become free for the daemon), like a disk shared with something else.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from command_support import processes_with
from devfactory.protocol import errors as codes
from devfactory.protocol.commands import CommandList, CommandListParams
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health
from devfactory.protocol.runs import Run, RunCreateParams, RunIdParams
from devfactory.storage.sqlite.database import MAX_PAGES_VARIABLE
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    start_daemon,
    stop_daemon,
    turn,
    until,
    wait_event,
    wait_finished,
    write_script,
)
from support import make_git_repo

HEADROOM_PAGES = 2000
"""Room for the daemon to start and a run to begin before the disk fills."""
CHATTY = """\
import pathlib, time

def test_chatty():
    for n in range(1200):  # until the test releases it (a minute at most)
        print(f"line {n} " + "x" * 2000, flush=True)
        if pathlib.Path("release").exists():
            break
        time.sleep(0.05)
"""
"""Prints until the test has filled the disk and looked, so the disk is full while it runs."""


def fill_disk(database: Path, ceiling: int) -> None:
    """Take every page the daemon may still use, as another program filling the disk would."""
    with contextlib.closing(sqlite3.connect(database, timeout=30, isolation_level=None)) as other:
        other.execute(f"PRAGMA max_page_count = {ceiling}")
        other.execute("CREATE TABLE IF NOT EXISTS filler (data BLOB)")
        for size in (4000, 500, 50):  # whole pages, then the gaps
            with contextlib.suppress(sqlite3.OperationalError):  # "database or disk is full"
                while True:
                    other.execute("INSERT INTO filler VALUES (zeroblob(?))", (size,))


def free_space(database: Path) -> None:
    with contextlib.closing(sqlite3.connect(database, timeout=30, isolation_level=None)) as other:
        other.execute("DELETE FROM filler")


async def test_a_full_disk_fails_clearly_and_the_daemon_recovers_when_space_is_freed(
    tmp_path: Path,
):
    workspace = make_git_repo(tmp_path / "project", {"test_chatty.py": CHATTY})
    database = workspace / ".devfactory" / "devfactory.db"
    await stop_daemon(await start_daemon(workspace, RUN_OPTIONS))  # creates the database
    with contextlib.closing(sqlite3.connect(database)) as conn:
        ceiling = conn.execute("PRAGMA page_count").fetchone()[0] + HEADROOM_PAGES
    env = {**os.environ, MAX_PAGES_VARIABLE: str(ceiling)}
    command = "pytest -q -s -p no:cacheprovider test_chatty.py"
    chatty = write_script(
        tmp_path, "chatty", [turn("1. Test"), turn("", call("run_command", command=command))]
    )
    quick = write_script(tmp_path, "quick", [turn("1. Done"), finish()])
    full = f"the disk holding {database} is full; free space and retry"

    daemon = await start_daemon(workspace, RUN_OPTIONS, env=env)
    try:
        run = await create_run(daemon, chatty)
        await wait_event(daemon, run.id, EventType.COMMAND_OUTPUT)
        fill_disk(database, ceiling)

        with pytest.raises(JsonRpcException) as refused:
            await daemon.call(
                Requests.RUNS_CREATE,
                RunCreateParams(prompt="p" * 20_000, provider="scripted", model=str(quick)),
            )
        assert (refused.value.code, refused.value.message) == (codes.UNAVAILABLE, full)
        health: Health = await daemon.call(Requests.HEALTH)
        assert (health.database_ok, health.database_problem) == (False, full)

        # The command ends while the disk is full: its end cannot be recorded, so the run
        # waits for room (it must not complete with its output half recorded).
        working: Run = await daemon.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
        # Full again just before it ends: pages the daemon freed since the first fill (its own
        # deletes) had let the command's end be recorded, and the run completed (2 CI runs).
        fill_disk(database, ceiling)
        (Path(working.worktree_path or "") / "release").touch()
        await until(lambda: processes_with("test_chatty.py") == [], timeout=60)
        waiting: Run = await daemon.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
        assert waiting.status is RunStatus.RUNNING

        free_space(database)
        failed = await wait_finished(daemon, run.id, timeout=60)
        assert (failed.status, failed.failed_reason) == (RunStatus.FAILED, full)
        listed: CommandList = await daemon.call(
            Requests.COMMANDS_LIST, CommandListParams(run_id=run.id)
        )
        assert [e.finished_at is not None for e in listed.executions] == [True], "rows closed"

        health = await daemon.call(Requests.HEALTH)
        assert (health.database_ok, health.database_problem) == (True, None)
        after = await create_run(daemon, quick, prompt="p" * 20_000)
        done = await wait_finished(daemon, after.id)
        assert done.status is RunStatus.COMPLETED, done.failed_reason
    finally:
        await stop_daemon(daemon)
