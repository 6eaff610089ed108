"""The SQLite index's reads do work in proportion to what they return, not to the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from devfactory.storage import Store
from devfactory.storage.ports import FileUpdate, IndexBatch, NewChunk
from devfactory.storage.sqlite.index import SqliteIndexRepository


async def test_chunks_by_id_looks_the_ids_up(store: Store, tmp_path: Path):
    """Counted in SQLite VM steps (not time): reading 2 chunks of 3,000 by id used to walk
    the project's index over all of them."""
    project = await store.projects.register(
        root_path=str(tmp_path), name="w", slug="w", default_branch=None, current_branch=None
    )
    chunks = [NewChunk(None, None, None, n, n, f"text {n}", f"h{n}", "", "") for n in range(3_000)]
    update = FileUpdate("a.py", "python", "code", 1, 1, "h", None, chunks)
    await store.index.apply(project.id, IndexBatch([update]))
    ids = sorted(c.id for c in await store.index.all_chunks(project.id))[1000:1002]
    assert isinstance(store.index, SqliteIndexRepository)
    steps = 0

    def count(conn: sqlite3.Connection, on: bool) -> None:
        def step() -> int:
            nonlocal steps
            steps += 1
            return 0

        conn.set_progress_handler(step if on else None, 100)

    await store.index.db.read(count, True)
    found = await store.index.chunks_by_id(project.id, ids)
    await store.index.db.read(count, False)
    assert sorted(found) == ids
    assert steps < 20, f"{steps * 100} VM steps for 2 rows"
