"""The SQLite adapter's index for replaying one initiative's events (the contract of the
factory's ports is ``test_storage_contract_factory.py``)."""

from __future__ import annotations

from pathlib import Path

from test_storage_contract_factory import initiative_event

from devfactory.protocol.enums import InitiativeMode
from devfactory.storage.ports import NewInitiative
from devfactory.storage.sqlite import SqliteStore


async def test_one_initiatives_events_replay_through_the_index(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "db.sqlite")
    try:
        project = await store.projects.register(
            root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
        )
        new = NewInitiative(
            project_id=project.id, name="A", goal="g", mode=InitiativeMode.YOLO, branch="A"
        )
        await store.initiatives.create(new, initiative_event(project.id))
        plan = await store.db.fetchall(
            "EXPLAIN QUERY PLAN SELECT * FROM agent_events WHERE json_extract(payload,"
            " '$.initiativeId') = ? AND json_extract(payload, '$.initiativeId') IS NOT NULL"
            " AND id > ? AND project_id = ? ORDER BY id LIMIT ?",
            (1, 0, project.id, 10),
        )
        assert "agent_events_initiative" in " ".join(str(tuple(row)) for row in plan)
    finally:
        await store.close()
