"""A full disk: writes fail with a clear error, keep nothing, and work again once there is room.

The disk is simulated with SQLite's own limit (``max_page_count``, set through
``DEVFACTORY_DB_MAX_PAGES``): the daemon's writes then fail with a real SQLITE_FULL, as they
do when the WAL cannot grow. Another program "fills the disk" by growing the database past
the limit, and "frees space" by deleting its rows (their pages become free for the daemon).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devfactory.protocol.enums import EventType, Severity
from devfactory.storage import StorageFull
from devfactory.storage.ports import NewEvent
from devfactory.storage.sqlite import SqliteStore
from devfactory.storage.sqlite.database import MAX_PAGES_VARIABLE

HEADROOM_PAGES = 64


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SqliteStore]:
    path = tmp_path / "d.db"
    await (await SqliteStore.open(path)).close()
    with contextlib.closing(sqlite3.connect(path)) as probe:  # no store is open yet
        pages = probe.execute("PRAGMA page_count").fetchone()[0]
    monkeypatch.setenv(MAX_PAGES_VARIABLE, str(pages + HEADROOM_PAGES))
    store = await SqliteStore.open(path)
    yield store
    await store.close()


FILL = """
import contextlib, sqlite3, sys
with contextlib.closing(sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)) as other:
    other.execute(f"PRAGMA max_page_count = {int(sys.argv[2])}")
    other.execute("CREATE TABLE IF NOT EXISTS filler (data BLOB)")
    with contextlib.suppress(sqlite3.OperationalError):  # "database or disk is full"
        while True:
            other.execute("INSERT INTO filler VALUES (zeroblob(1000))")
"""
FREE = """
import contextlib, sqlite3, sys
with contextlib.closing(sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)) as other:
    other.execute("DELETE FROM filler")
"""


def another_program(script: str, *args: object) -> None:
    """Run ``script`` in its own process, as another program would be.

    Not in this one: the daemon's SQLite (sqlean) and Python's own are two libraries, and POSIX
    locks belong to a process, so closing the other library's connection would drop the
    daemon's locks on the file too (its WAL then looks unused and is reset under it).
    """
    subprocess.run([sys.executable, "-c", script, *map(str, args)], check=True, timeout=60)


def fill_disk(path: Path) -> None:
    """Another program takes every page the daemon may still use (its rows, its disk space)."""
    another_program(FILL, path, os.environ[MAX_PAGES_VARIABLE])


def free_space(path: Path) -> None:
    another_program(FREE, path)


async def test_a_full_disk_fails_writes_clearly_and_they_work_again_after(
    store: SqliteStore,
) -> None:
    path = Path(store.db.path)
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    event = NewEvent(
        project.id, None, EventType.AI_MESSAGE, Severity.INFO, "e", "x" * 2000, {}, "t"
    )
    assert await store.db.check_writes() is None
    fill_disk(path)

    with pytest.raises(StorageFull) as caught:
        await store.events.append([event] * 200)
    message = f"the disk holding {path} is full; free space and retry"
    assert str(caught.value) == message
    assert await store.db.check_writes() == message, "health sees it"
    assert (await store.counts(project.id))["events"] == 0, "nothing of the failed write was kept"

    free_space(path)
    assert len(await store.events.append([event] * 40)) == 40
    assert await store.db.check_writes() is None
    assert (await store.counts(project.id))["events"] == 40
    assert await store.db.scalar("PRAGMA integrity_check") == "ok"
