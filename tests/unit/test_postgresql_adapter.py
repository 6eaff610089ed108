"""The PostgreSQL adapter's own guarantees, beyond the contract every adapter passes: event ids
that become visible in order across connections, migrations, text PostgreSQL cannot hold,
FTS5 expressions as tsquery, errors that name the fix and never the password."""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.enums import AgentRole, EventType, InitiativeMode, Severity
from devfactory.protocol.initiatives import Phase
from devfactory.protocol.tasks import Task
from devfactory.storage import DatabaseError, SchemaTooNewError, open_store, shown_location
from devfactory.storage.migrations import load_migrations
from devfactory.storage.ports import FileUpdate, IndexBatch, NewChunk, NewEvent
from devfactory.storage.ports.factory_rows import NewInitiative, NewPhase, NewTask
from postgresql_fixtures import store as store
from postgresql_fixtures import url as url

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")

from devfactory.storage.postgresql import PostgresStore  # noqa: E402
from devfactory.storage.postgresql.database import Connection  # noqa: E402
from devfactory.storage.postgresql.events import insert_events  # noqa: E402
from devfactory.storage.postgresql.initiative_tasks import insert_task  # noqa: E402
from devfactory.storage.postgresql.initiatives import insert_phase  # noqa: E402
from devfactory.storage.postgresql.tsquery import MatchSyntaxError, to_tsquery  # noqa: E402


def note(project_id: int, title: str, **text: str) -> NewEvent:
    return NewEvent(
        project_id=project_id, run_id=None, type=EventType.AI_MESSAGE, severity=Severity.INFO,
        title=title, message=text.get("message", ""), payload=dict(text),
        created_at="2026-01-01T00:00:00.000Z",
    )  # fmt: skip


async def project(store: PostgresStore) -> int:
    registered = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    return registered.id


async def one_waits_on_a_lock(url: str, waiter: asyncio.Task[Any]) -> None:
    """Return once a statement of this database waits on a lock; fail if ``waiter`` ends
    first (it went ahead without waiting)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as watcher:
        while True:
            assert not waiter.done(), "it went ahead while the other write was open"
            cursor = await watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            row = await cursor.fetchone()
            if row is not None and row[0] == 1:
                return
            await asyncio.sleep(0.01)


async def test_event_ids_become_visible_in_order_across_connections(
    store: PostgresStore, url: str
) -> None:
    """A sequence hands ids out before commit: a later batch could commit first and a reader
    replaying with ``since`` would skip the earlier one forever. The counter row makes the
    second appender wait for the first to commit."""
    project_id = await project(store)
    first_holds = asyncio.Event()
    release = asyncio.Event()

    async def slow_first(conn: Connection) -> list[int]:
        events = await insert_events(conn, [note(project_id, "first")])
        first_holds.set()
        await release.wait()
        return [e.id for e in events]

    first = asyncio.create_task(store.db.write(slow_first))
    await first_holds.wait()
    second = asyncio.create_task(store.events.append([note(project_id, "second")]))
    await one_waits_on_a_lock(url, second)  # on the first one's counter row
    assert await store.events.list(project_id) == [], "nothing is visible before its turn"
    release.set()
    first_ids = await first
    second_ids = [e.id for e in await second]
    assert first_ids == [1] and second_ids == [2]
    assert [e.title for e in await store.events.list(project_id)] == ["first", "second"]


@pytest.mark.parametrize("kind", ["phase", "task"])
async def test_phases_and_tasks_appended_at_once_get_positions_of_their_own(
    store: PostgresStore, url: str, kind: str
) -> None:
    """An append reads the last position and takes the next: two at once under READ
    COMMITTED would both read the same one. The parent's row is locked first, so the second
    waits for the first to commit."""
    project_id = await project(store)
    initiative, _ = await store.initiatives.create(
        NewInitiative(
            project_id=project_id, name="i", goal="g", mode=InitiativeMode.YOLO, branch="df/i"
        )
    )
    phase, _ = await store.initiatives.create_phase(
        NewPhase(initiative_id=initiative.id, name="p0")
    )

    async def append(conn: Connection | None, name: str) -> int:
        if kind == "phase":
            new_phase = NewPhase(initiative_id=initiative.id, name=name)
            made: Phase | Task = (
                (await store.initiatives.create_phase(new_phase))[0]
                if conn is None
                else (await insert_phase(conn, new_phase, None))[0]
            )
        else:
            new_task = NewTask(
                initiative_id=initiative.id, phase_id=phase.id, title=name, agent=AgentRole.BACKEND
            )
            made = (
                (await store.tasks.create(new_task))[0]
                if conn is None
                else (await insert_task(conn, new_task, None))[0]
            )
        return made.position

    first_holds = asyncio.Event()
    release = asyncio.Event()

    async def slow_first(conn: Connection) -> int:
        position = await append(conn, "first")
        first_holds.set()
        await release.wait()
        return position

    first = asyncio.create_task(store.db.write(slow_first))
    await first_holds.wait()
    second = asyncio.create_task(append(None, "second"))
    await one_waits_on_a_lock(url, second)
    release.set()
    base = 1 if kind == "phase" else 0
    assert (await first, await second) == (base, base + 1)


async def test_text_postgresql_cannot_hold_is_stored_with_a_replacement_character(
    store: PostgresStore,
) -> None:
    """Command output may hold NUL, which PostgreSQL text and jsonb refuse: the event is still
    written, NUL shown as U+FFFD, and an escaped backslash before u0000 is left alone."""
    project_id = await project(store)
    written = note(project_id, "out\x00put", message="a\x00b", out="x\x00y", literal="\\u0000")
    await store.events.append([written])
    (stored,) = await store.events.list(project_id)
    assert (stored.title, stored.message) == ("out\ufffdput", "a\ufffdb")
    assert stored.payload == {"message": "a\ufffdb", "out": "x\ufffdy", "literal": "\\u0000"}


async def test_a_database_migrated_by_a_newer_devfactory_is_left_untouched(
    store: PostgresStore, url: str
) -> None:
    await store.db.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'x')")
    with pytest.raises(SchemaTooNewError, match="schema version 99"):
        await open_store(url)


async def test_daemons_opening_a_new_database_at_once_migrate_it_once(url: str) -> None:
    stores = await asyncio.gather(*(open_store(url) for _ in range(3)))
    try:
        plan = load_migrations("devfactory.storage.postgresql")
        versions = {(await s.status()).schema_version for s in stores}
        assert versions == {plan[-1].version}
        assert isinstance(stores[0], PostgresStore)
        applied = await stores[0].db.fetchall("SELECT version FROM schema_migrations")
        assert sorted(row["version"] for row in applied) == [m.version for m in plan]
    finally:
        for opened in stores:
            await opened.close()


async def test_status_names_the_server_and_the_vector_engine(store: PostgresStore) -> None:
    status = await store.status()
    assert status.problem is None and status.engine_version[0].isdigit()
    assert (status.vector_version is None) == (store.db.vector_problem is not None)


async def test_pgvector_measures_the_distances_where_the_server_has_it(
    store: PostgresStore,
) -> None:
    if store.db.vector_version is None:
        pytest.skip(f"no pgvector on this server: {store.db.vector_problem}")
    row = await store.db.fetchone("SELECT '[1,0,0]'::vector <=> '[0,1,0]'::vector AS d")
    assert row is not None and row["d"] == pytest.approx(1.0)


async def test_a_zero_vector_is_as_far_as_an_orthogonal_one(store: PostgresStore) -> None:
    """Cosine distance has no value for a zero vector: it ranks last, at distance 1, instead
    of failing the query (or, with pgvector, coming back as NaN)."""
    project_id = await project(store)
    chunks = [
        NewChunk(symbol=name, name=name, kind="function", start_line=1, end_line=2,
                 content=name, content_hash=name, symbol_terms=name, subtokens="")
        for name in ("near", "zero")
    ]  # fmt: skip
    update = FileUpdate("a.py", "python", "code", 1, 1, "h", None, chunks)
    await store.index.apply(project_id, IndexBatch([update]))
    await store.index.reset_vectors(project_id, 3)
    ids = {c.name: c.id for c in await store.index.all_chunks(project_id)}
    zero = struct.pack("3f", 0, 0, 0)
    await store.index.store_vectors(
        [(ids["near"], struct.pack("3f", 1, 0, 0)), (ids["zero"], zero)]
    )
    found = await store.index.semantic(
        project_id, struct.pack("3f", 1, 0, 0), 5, languages=["python"]
    )
    assert [(c.name, round(c.score, 6)) for c in found] == [("near", 0.0), ("zero", 1.0)]


async def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    location = f"postgresql://me:s3cret@/nowhere?host={tmp_path}&connect_timeout=2"
    with pytest.raises(DatabaseError, match=r"cannot connect .*me:\*\*\*@") as raised:
        await open_store(location)
    assert "s3cret" not in str(raised.value) and "No such file" in str(raised.value)


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("postgresql://me:s3cret@db:5432/team", "postgresql://me:***@db:5432/team"),
        ("postgresql://me@db/team", "postgresql://me@db/team"),
        ("/w/.devfactory/devfactory.db", "/w/.devfactory/devfactory.db"),
    ],
)
def test_locations_are_shown_without_a_password(location: str, shown: str) -> None:
    assert shown_location(location) == shown


def test_without_psycopg_a_postgresql_url_names_the_extra_to_install() -> None:
    code = (
        "import asyncio, sys; sys.modules['psycopg'] = None\n"
        "from devfactory.storage import DatabaseError, open_store\n"
        "try:\n    asyncio.run(open_store('postgresql://db/team'))\n"
        "except DatabaseError as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'devfactory-storage[postgresql]'" in done.stdout


@pytest.mark.parametrize(
    ("match", "tsquery"),
    [
        ("refund", "('refund')"),
        ("refund OR parcel", "('refund') | ('parcel')"),
        ('"parse url" OR ("parseurl" OR "parse url")',
         "('parse' <-> 'url') | ( ('parseurl') | ('parse' <-> 'url') )"),
        ("refund_all", "('refund' <-> 'all')"),
        ("pars*", "('pars':*)"),
        ("(a OR b) c", "( ('a') | ('b') ) & ('c')"),
        ("foo NOT bar", "('foo') & ! ('bar')"),
        ('"" OR a', "('a' & !'a') | ('a')"),
        ('""', None),
        ("...", None),
    ],
)  # fmt: skip
def test_fts5_expressions_become_tsquery(match: str, tsquery: str | None) -> None:
    assert to_tsquery(match) == tsquery


@pytest.mark.parametrize("match", ["(a", "a)", "OR a", "a OR"])
def test_a_broken_expression_is_refused_with_where(match: str) -> None:
    with pytest.raises(MatchSyntaxError, match="a"):
        to_tsquery(match)


async def test_a_batch_of_events_sends_one_wake_up_at_commit(
    store: PostgresStore, url: str
) -> None:
    """LISTEN/NOTIFY is a wake-up per batch, not a message per event: three events appended
    together are one notification, and it names the project."""
    project_id = await project(store)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as listener:
        await listener.execute("LISTEN devfactory_events")
        await store.events.append([note(project_id, str(n)) for n in range(3)])
        await store.db.execute("SELECT pg_notify('devfactory_events', 'end')")
        payloads = []
        async for notice in listener.notifies():
            if notice.payload == "end":
                break
            payloads.append(notice.payload)
    assert payloads == [str(project_id)]


async def test_a_reader_of_another_connection_is_woken_by_an_append(
    store: PostgresStore, url: str
) -> None:
    project_id = await project(store)
    reader = await open_store(url)
    try:
        woken = False
        while not woken:  # the first rounds may append before the reader listens
            waiting = asyncio.create_task(reader.events.wait_for_events(project_id, 5))
            await asyncio.sleep(0.05)
            await store.events.append([note(project_id, "wake")])
            woken = await waiting
        assert [e.title for e in await reader.events.list(project_id)][-1] == "wake"
    finally:
        await reader.close()
