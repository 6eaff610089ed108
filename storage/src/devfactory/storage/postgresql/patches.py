"""``change_patches``: proposed changes as stored patches, reviewable on any machine."""

from __future__ import annotations

from .database import Database


class PostgresPatchRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(
        self, change_id: int, before: bytes | None, after: bytes | None, diff: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO change_patches (change_id, before, after, diff) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (change_id) DO UPDATE SET before = excluded.before,"
            " after = excluded.after, diff = excluded.diff",
            (change_id, before, after, diff),
        )

    async def has(self, change_id: int) -> bool:
        found = await self.db.scalar(
            "SELECT EXISTS (SELECT 1 FROM change_patches WHERE change_id = %s)", (change_id,)
        )
        return bool(found)

    async def get(self, change_id: int) -> tuple[bytes | None, bytes | None, str] | None:
        row = await self.db.fetchone(
            "SELECT before, after, diff FROM change_patches WHERE change_id = %s", (change_id,)
        )
        if row is None:
            return None
        before, after = row["before"], row["after"]
        return (
            None if before is None else bytes(before),
            None if after is None else bytes(after),
            str(row["diff"]),
        )
