"""Run leases on PostgreSQL (team workers): taking a lease moves its epoch on, a worker whose
lease was taken over writes nothing more for the run (events and status alike), each run's
events are numbered per run without a gap, and a queued run's job commits with it."""

from __future__ import annotations

import asyncio

import pytest

from devfactory.protocol.enums import EventType, RunStatus, Severity
from devfactory.protocol.runs import RunMetadata
from devfactory.storage import LeaseLost
from devfactory.storage.ports import NewEvent
from postgresql_fixtures import store as store
from postgresql_fixtures import url as url

pytest.importorskip("psycopg", reason="psycopg is not installed")

from devfactory.storage.postgresql import PostgresStore
from devfactory.storage.postgresql.jobs import RUN_TASK, run_queue


async def new_run(
    store: PostgresStore, status: RunStatus = RunStatus.DRAFT, metadata: RunMetadata | None = None
) -> tuple[int, int]:
    project = await store.projects.register(
        root_path="team:acme", name="w", slug="w", default_branch=None, current_branch=None
    )
    run = await store.runs.create(
        project_id=project.id, title="t", prompt="p", status=status, agent="backend",
        provider="scripted", model=None, mode="review", metadata=metadata or RunMetadata(),
    )  # fmt: skip
    return project.id, run.id


def step(project_id: int, run_id: int, title: str) -> NewEvent:
    return NewEvent(
        project_id=project_id, run_id=run_id, type=EventType.AI_MESSAGE, severity=Severity.INFO,
        title=title, message="", payload={}, created_at="2026-01-01T00:00:00.000Z",
    )  # fmt: skip


async def run_seqs(store: PostgresStore, run_id: int) -> list[int]:
    rows = await store.db.fetchall(
        "SELECT run_seq FROM agent_events WHERE run_id = %s ORDER BY id", (run_id,)
    )
    return [int(row["run_seq"]) for row in rows]


async def test_a_worker_whose_lease_was_taken_over_writes_nothing_more(url: str) -> None:
    first, second = await PostgresStore.open(url), await PostgresStore.open(url)
    try:
        project_id, run_id = await new_run(first)
        assert first.leases is not None and second.leases is not None
        old = await first.leases.acquire(run_id, "worker-a", 60)
        assert old == 1
        assert await second.leases.acquire(run_id, "worker-b", 60) is None, "a live lease holds"
        await first.events.append([step(project_id, run_id, "by a")])

        await first.db.execute("UPDATE agent_runs SET lease_expires_at = now() - interval '1s'")
        new = await second.leases.acquire(run_id, "worker-b", 60)
        assert new == 2
        with pytest.raises(LeaseLost, match=f"run {run_id} was taken over"):
            await first.events.append([step(project_id, run_id, "stale a")])
        with pytest.raises(LeaseLost):
            await first.runs.update(run_id, current_step=7)
        assert not await first.leases.renew(run_id, old, 60)
        assert not await first.leases.holds(run_id, old)
        await second.events.append([step(project_id, run_id, "by b")])
        updated = await second.runs.update(run_id, current_step=3)
        assert updated is not None and updated.current_step == 3

        events = await second.events.list(project_id, run_id=run_id)
        assert [e.title for e in events] == ["by a", "by b"], "the stale append left nothing"
        assert await run_seqs(second, run_id) == [1, 2]
    finally:
        await first.close()
        await second.close()


async def test_each_run_numbers_its_events_without_a_gap(store: PostgresStore) -> None:
    project_id, one = await new_run(store)
    _, two = await new_run(store)
    batch = [step(project_id, run_id, f"{run_id}-{i}") for i in range(3) for run_id in (one, two)]
    await store.events.append(batch)
    await store.events.append([step(project_id, two, "last")])
    assert await run_seqs(store, one) == [1, 2, 3]
    assert await run_seqs(store, two) == [1, 2, 3, 4]


async def test_a_queued_run_commits_with_its_job(store: PostgresStore) -> None:
    assert store.run_queue is not None
    await store.run_queue.enable(lambda run: run.metadata.initiative_id is None)
    project_id, run_id = await new_run(store, RunStatus.QUEUED)
    await new_run(store, RunStatus.QUEUED, RunMetadata(initiative_id=3))  # not the workers'

    _, draft = await new_run(store, RunStatus.DRAFT)
    await store.runs.update(draft, status=RunStatus.QUEUED)
    await store.runs.update(draft, status=RunStatus.QUEUED)  # one waiting segment is enough
    jobs = await store.db.fetchall(
        "SELECT task_name, queue_name, (args ->> 'run_id')::int AS run FROM procrastinate_jobs"
        " ORDER BY id"
    )
    assert [(j["task_name"], j["queue_name"], j["run"]) for j in jobs] == [
        (RUN_TASK, run_queue(project_id), run_id),
        (RUN_TASK, run_queue(project_id), draft),
    ]


async def test_a_fenced_run_does_not_sink_the_other_runs_events_in_its_batch(
    store: PostgresStore,
) -> None:
    """A worker's event bus writes its runs' events in batches: the run whose lease was taken
    over is refused, the other runs in the same batch are written."""
    from devfactory.protocol.events import AiMessage
    from devfactory.server.events.bus import EventBus

    project_id, lost = await new_run(store)
    _, kept = await new_run(store)
    assert store.leases is not None
    await store.leases.acquire(lost, "me", 60)
    await store.leases.acquire(kept, "me", 60)
    await store.db.execute("UPDATE agent_runs SET lease_epoch = lease_epoch + 1 WHERE id = %s",
                           (lost,))  # fmt: skip
    bus = EventBus(store, project_id, lambda method, params: None)
    bus.start()
    try:
        said = [
            bus.emit(run_id, EventType.AI_MESSAGE, f"{run_id}", AiMessage(text="hi"))
            for run_id in (lost, kept, kept)
        ]
        results = await asyncio.gather(*said, return_exceptions=True)
    finally:
        await bus.stop()
    assert isinstance(results[0], LeaseLost)
    assert [e.title for e in results[1:] if not isinstance(e, BaseException)] == [str(kept)] * 2
    assert await run_seqs(store, lost) == [] and await run_seqs(store, kept) == [1, 2]


async def test_a_segment_handed_back_while_another_worker_retried_its_job_still_waits(
    store: PostgresStore,
) -> None:
    """A stopping worker sends no heartbeat: another may take it for stalled and retry its job
    while it winds down. Its own end of that job then overwrote the retried job, and the
    segment it handed back had found that job still waiting: nothing was left to run."""
    queue = store.run_queue
    assert queue is not None
    await queue.enable(lambda run: True)
    project_id, run_id = await new_run(store, RunStatus.QUEUED)
    retried = asyncio.Event()

    async def execute(run: int) -> None:
        jobs = queue.app.job_manager
        (job,) = await jobs.get_stalled_jobs(queue=run_queue(project_id), seconds_since_heartbeat=0)
        await jobs.retry_job(job)  # what another worker's stalled check does
        retried.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:  # the worker stops: hand the segment back
            await queue.hand_back(project_id, run)
            raise

    serving = asyncio.create_task(
        queue.serve(project_id, execute, slots=1, lease_s=1.5, name="stopping")
    )
    await asyncio.wait_for(retried.wait(), 30)
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    waiting = await store.db.fetchall(
        "SELECT id FROM procrastinate_jobs WHERE status = 'todo' AND (args ->> 'run_id')::int = %s",
        (run_id,),
    )
    assert len(waiting) == 1, "the run's next segment waits for a worker"


async def test_directives_to_a_run_on_a_worker_are_taken_once_in_order(
    store: PostgresStore,
) -> None:
    _, run_id = await new_run(store, RunStatus.RUNNING)
    leases = store.leases
    assert leases is not None
    assert await leases.take_directives(run_id) == []
    await leases.send_directive(run_id, "Use type hints")
    await leases.send_directive(run_id, 'Keep "quotes" and ]brackets[')
    assert await leases.take_directives(run_id) == [
        "Use type hints",
        'Keep "quotes" and ]brackets[',
    ]
    assert await leases.take_directives(run_id) == [], "taken once"
