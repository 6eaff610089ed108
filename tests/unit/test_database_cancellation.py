"""Cancelling a write at any moment never wedges the database.

Stop cancels the run's task wherever it is, and ``$/cancelRequest`` cancels a request's; a
write cancelled between its BEGIN and its COMMIT used to leave the single writer connection
inside a transaction, and every later write failed with "cannot start a transaction within a
transaction". Here every kind of write is cancelled after 0, 1, 2... turns of the event loop
(so the cancellation lands at each of its await points in turn, and while its job runs on the
writer thread), and the next write must succeed and see a consistent database.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from devfactory.protocol.changes import Hunk
from devfactory.protocol.enums import ChangeAction, EventType, RunStatus, Severity
from devfactory.protocol.runs import RunMetadata
from devfactory.storage.ports import FileUpdate, IndexBatch, NewEvent
from devfactory.storage.sqlite import SqliteStore

TURNS = 40
"""Event-loop turns to try cancelling after: enough to reach every await of one write."""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "d.db")
    yield store
    await store.close()


async def _project_and_run(store: SqliteStore) -> tuple[int, int]:
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    run = await store.runs.create(
        project_id=project.id, title="r", prompt="p", status=RunStatus.RUNNING, agent="qa",
        provider="scripted", model=None, mode="review", metadata=RunMetadata(),
    )  # fmt: skip
    return project.id, run.id


def _writes(
    store: SqliteStore, project_id: int, run_id: int
) -> dict[str, Callable[[int], Awaitable]]:
    """One of each kind of write, parametrised by a counter so each call writes new values."""

    def event(n: int) -> NewEvent:
        return NewEvent(
            project_id, run_id, EventType.AI_MESSAGE, Severity.INFO, f"e{n}", "", {}, "t"
        )

    def indexed(n: int) -> IndexBatch:
        update = FileUpdate(
            path=f"f{n}.py", language="python", source_type="code", size=1, mtime_ns=n,
            content_hash=str(n), skip_reason=None, chunks=[],
        )  # fmt: skip
        return IndexBatch([update])

    return {
        "update": lambda n: store.runs.update(run_id, current_step=n),
        "compare_and_set": lambda n: store.runs.update(
            run_id, expect_status=RunStatus.RUNNING, current_step=n
        ),
        "execute": lambda n: store.git_operations.record(
            project_id=project_id,
            run_id=run_id,
            operation="status",
            args=[str(n)],
            exit_code=0,
            stdout="",
            stderr="",
            duration_ms=1.0,
        ),
        "transition": lambda n: store.runs.transition(
            run_id,
            expect_status=RunStatus.RUNNING,
            event=NewEvent(
                project_id,
                run_id,
                EventType.RUN_STATUS_CHANGED,
                Severity.INFO,
                f"t{n}",
                "",
                {},
                "t",
            ),
            current_step=n,
        ),
        "propose": lambda n: store.changes.upsert(
            project_id=project_id,
            run_id=run_id,
            path=f"p{n % 3}.py",
            base_commit="0" * 40,
            action=ChangeAction.UPDATE,
            before_hash=None,
            after_hash=str(n),
            diff="d",
            diff_path=None,
            event_id=None,
            hunks=[Hunk(index=0, header="@@", old_start=1, old_lines=1, new_start=1, new_lines=1)],
        ),
        "events": lambda n: store.events.append([event(n), event(n)]),
        "index": lambda n: store.index.apply(project_id, indexed(n)),
        "meta": lambda n: store.index.set_meta(project_id, "k", str(n)),
    }


@pytest.mark.parametrize(
    "kind",
    ["update", "compare_and_set", "execute", "transition", "propose", "events", "index", "meta"],
)
async def test_a_write_cancelled_at_any_point_leaves_the_writer_usable(
    store: SqliteStore, kind: str
) -> None:
    project_id, run_id = await _project_and_run(store)
    write = _writes(store, project_id, run_id)[kind]
    cancelled_mid_flight = 0
    for turns in range(TURNS):
        task = asyncio.ensure_future(write(turns))
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.cancel():
            cancelled_mid_flight += 1
        await asyncio.gather(task, return_exceptions=True)
        # The very next write works, and so does a read of what it wrote.
        step = 1000 + turns
        updated = await store.runs.update(run_id, current_step=step)
        assert updated is not None and updated.current_step == step, f"after {turns} turns"
    assert cancelled_mid_flight > 1, "the cancellations landed while the writes were in flight"


async def test_interleaved_cancellations_of_concurrent_writers(store: SqliteStore) -> None:
    """Many writers at once, cancelled at random (seeded) moments: no write is half done."""
    project_id, run_id = await _project_and_run(store)
    writes = list(_writes(store, project_id, run_id).values())
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    for round_ in range(15):
        tasks = [asyncio.ensure_future(rng.choice(writes)(round_ * 100 + i)) for i in range(12)]
        for _ in range(rng.randrange(1, 8)):
            await asyncio.sleep(0)
        for task in rng.sample(tasks, 6):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert (await store.runs.update(run_id, current_step=round_)) is not None
    # Every batch of two events committed whole or not at all.
    found = await store.events.list(project_id, run_id=run_id, limit=10_000)
    titles = [e.title for e in found if e.type is EventType.AI_MESSAGE]
    assert all(titles.count(title) == 2 for title in titles), f"seed {seed}"
    assert await store.db.scalar("PRAGMA integrity_check") == "ok"


async def test_the_health_probe_sees_a_writer_left_inside_a_transaction(store: SqliteStore) -> None:
    """What a cancelled ``transaction()`` used to leave behind: health must say so."""
    assert await store.db.check_writes() is None
    await store.db._writer.execute("BEGIN IMMEDIATE")
    assert await store.db.check_writes() == (
        "writes fail: the writer connection was left inside a transaction"
    )
    await store.db._writer.rollback()
    assert await store.db.check_writes() is None
