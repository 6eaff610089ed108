"""Reads see every committed write, however many tasks read and write at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from devfactory.storage.sqlite.database import Database, Migration

MIGRATION_SQL = "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);"


async def test_a_row_is_readable_right_after_its_insert_while_others_read(tmp_path: Path):
    """A cursor left open by one reader used to pin the reader's WAL snapshot, so another
    task reading back the row it had just inserted could get None."""
    db = await Database.open(tmp_path / "d.db", [Migration(1, "0001_items.sql", MIGRATION_SQL)])
    try:
        await db.execute("INSERT INTO items (name) VALUES ('seed')")

        async def insert_and_read_back(n: int) -> str | None:
            item_id = await db.execute("INSERT INTO items (name) VALUES (?)", (f"item {n}",))
            row = await db.fetchone("SELECT name FROM items WHERE id = ?", (item_id,))
            return None if row is None else str(row[0])

        async def keep_reading() -> None:
            for _ in range(200):
                await db.fetchone("SELECT name FROM items ORDER BY id")
                await db.fetchall("SELECT id FROM items")

        readers = [asyncio.create_task(keep_reading()) for _ in range(4)]
        names = await asyncio.gather(*(insert_and_read_back(n) for n in range(200)))
        await asyncio.gather(*readers)
        assert names == [f"item {n}" for n in range(200)]
    finally:
        await db.close()


async def test_commits_reach_the_database_file_through_the_background_checkpointer(
    tmp_path: Path,
):
    """The writer no longer checkpoints on its own every ~1000 pages (a commit that did stalled
    every emitter); a connection of its own copies the WAL back soon after writes."""
    path = tmp_path / "d.db"
    db = await Database.open(path, [Migration(1, "0001_items.sql", MIGRATION_SQL)])
    try:
        before = path.stat().st_size
        rows = [("x" * 1000,) for _ in range(2000)]
        await db.write(lambda conn: conn.executemany("INSERT INTO items (name) VALUES (?)", rows))
        assert path.stat().st_size == before, "committed to the WAL, not yet checkpointed"

        async def checkpointed() -> None:
            while path.stat().st_size < 1_500_000:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(checkpointed(), 10)
        assert await db.scalar("SELECT count(*) FROM items") == 2000
    finally:
        await db.close()
