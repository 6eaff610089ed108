"""The workspace database: extensions, pragmas, migrations and the single writer."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.enums import EventType, RunStatus, Severity
from devfactory.protocol.runs import RunMetadata
from devfactory.storage import DatabaseError, SchemaTooNewError, open_index_writer
from devfactory.storage.ports import FileUpdate, IndexBatch, IndexWriter, NewChunk, NewEvent
from devfactory.storage.sqlite import Database, SqliteStore
from devfactory.storage.sqlite.database import Migration, connect, load_migrations, migrate


async def test_opens_with_sqlite_vec_fts5_and_wal(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "d.db")
    try:
        sqlite_version, vec_version = await db.versions()
        assert tuple(int(p) for p in sqlite_version.split(".")) >= (3, 45)
        assert vec_version is not None and vec_version.startswith("v")
        assert await db.scalar("PRAGMA journal_mode") == "wal"
        assert await db.scalar("PRAGMA foreign_keys") == 1
        assert await db.scalar("SELECT vec_length(vec_f32('[1, 2, 3]'))") == 3
        assert db.schema_version == len(load_migrations())
    finally:
        await db.close()


async def test_a_cancelled_close_still_ends_every_connection_thread(tmp_path: Path) -> None:
    """A daemon whose shutdown request was cancelled half way through closing its store (the
    editor hung up) stayed alive forever, waiting for the threads of the connections left."""
    db = await Database.open(tmp_path / "d.db")
    threads = [c._thread for c in (db._writer, db._checkpointer, *db._readers.connections)]
    closing = asyncio.create_task(db.close())
    while not closing.done():  # cancelled at its first await, or the next one
        await asyncio.sleep(0)
        closing.cancel()
    for thread in threads:
        await asyncio.to_thread(thread.join, 5)
    assert [thread.is_alive() for thread in threads] == [False] * len(threads)


async def test_the_schema_opens_in_older_sqlite_tools(tmp_path: Path) -> None:
    """People inspect .devfactory/devfactory.db with their system's sqlite3 (Debian's is 3.40,
    as is Python's own here): no statement in the schema may need a newer SQLite to parse."""
    db = await Database.open(tmp_path / "d.db")
    await db.close()
    program = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        " print(sqlite3.sqlite_version, len(c.execute('SELECT sql FROM sqlite_master').fetchall()))"
    )
    read = await asyncio.to_thread(  # a process of its own: see test_database_full (locks)
        subprocess.run,
        [sys.executable, "-c", program, str(tmp_path / "d.db")],
        capture_output=True,
        text=True,
    )
    assert read.returncode == 0, read.stderr


async def test_fresh_database_has_the_whole_domain(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "d.db")
    try:
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type IN ('table','index')")
        names = {row[0] for row in rows}
    finally:
        await db.close()
    tables = {
        "projects", "agent_runs", "agent_events", "workspace_files", "snapshots",
        "command_executions", "git_operations", "documentation_updates", "run_reviews",
        "review_comments", "hitl_requests", "rag_files", "rag_chunks", "rag_chunks_fts",
        "rag_chunk_vectors", "rag_meta", "provider_accounts",
    }  # fmt: skip
    indexes = {
        "agent_events_run", "agent_events_project_time", "workspace_files_run",
        "workspace_files_project_path", "rag_chunks_project_source",
        "agent_runs_project_status", "command_executions_run",
    }  # fmt: skip
    assert tables <= names
    assert indexes <= names
    assert not names & DROPPED
    assert "rag_chunks_hash" not in names  # no query used it; it cost every chunk write


async def test_the_lexical_tables_merge_their_segments_sixteen_at_a_time(tmp_path: Path) -> None:
    """FTS5 keeps its settings in the table's own ``_config`` shadow table: a migration that
    recreated one of them would quietly bring back the default merge of 4 (a cold index of a
    large workspace wrote its postings over and over)."""
    db = await Database.open(tmp_path / "d.db")
    try:
        for table in ("rag_chunks_fts", "rag_files_fts"):
            automerge = await db.scalar(f"SELECT v FROM {table}_config WHERE k = 'automerge'")
            assert automerge == 16, table
    finally:
        await db.close()


DROPPED = {"tasks", "task_dependencies", "context_artifacts", "settings"}
"""Tables of the first schema that nothing used (migration 0003 drops them)."""


async def test_upgrade_drops_the_unused_tables_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    db = await Database.open(path, load_migrations()[:2])
    await db.execute(
        "INSERT INTO projects (name, slug, root_path, created_at, updated_at)"
        " VALUES ('w', 'w', '/w', 't', 't')"
    )
    await db.execute("INSERT INTO settings (key, value, updated_at) VALUES ('k', '1', 't')")
    await db.close()

    db = await Database.open(path)
    try:
        names = {row[0] for row in await db.fetchall("SELECT name FROM sqlite_master")}
        assert not names & DROPPED
        assert await db.scalar("SELECT root_path FROM projects") == "/w"
    finally:
        await db.close()


async def test_upgrade_keeps_chunks_findable_and_marks_their_files_for_reindexing(
    tmp_path: Path,
) -> None:
    """Migration 0006 rebuilds the FTS table (deletes that keep BM25's statistics exact)."""
    path = tmp_path / "d.db"
    db = await Database.open(path, load_migrations()[:5])
    await db.execute(
        "INSERT INTO projects (id, name, slug, root_path, created_at, updated_at)"
        " VALUES (1, 'w', 'w', '/w', 't', 't')"
    )
    await db.execute(
        "INSERT INTO rag_files (id, project_id, path, size, mtime_ns, content_hash, indexed_at)"
        " VALUES (1, 1, 'billing.py', 10, 1, 'h', 't')"
    )
    await db.execute(
        "INSERT INTO rag_chunks (id, project_id, file_id, path, start_line, end_line, content,"
        " content_hash) VALUES (7, 1, 1, 'billing.py', 1, 2, 'def refund(): pass', 'c')"
    )
    await db.execute(
        "INSERT INTO rag_chunks_fts (rowid, content, symbol, path, subtokens)"
        " VALUES (7, 'def refund(): pass', 'refund', 'billing.py', '')"
    )
    await db.close()

    db = await Database.open(path)
    try:
        match = "SELECT rowid FROM rag_chunks_fts WHERE rag_chunks_fts MATCH ?"
        assert [tuple(r) for r in await db.fetchall(match, ("refund",))] == [(7,)]
        assert tuple(await db.fetchone("SELECT size, content_hash FROM rag_files")) == (-1, "")
        await db.execute("DELETE FROM rag_files")
        assert await db.fetchall(match, ("refund OR billing",)) == []
        assert await db.scalar("SELECT count(*) FROM rag_chunks_fts_docsize") == 0
    finally:
        await db.close()


async def test_upgrade_indexes_whole_files_from_their_chunks(tmp_path: Path) -> None:
    """Migration 0009 fills the whole-file FTS table from the chunks already there, and the
    delete triggers (a file's, a project's) take exactly that text out again."""
    path = tmp_path / "d.db"
    db = await Database.open(path, load_migrations()[:8])
    await db.execute(
        "INSERT INTO projects (id, name, slug, root_path, created_at, updated_at)"
        " VALUES (1, 'w', 'w', '/w', 't', 't')"
    )
    await db.execute(
        "INSERT INTO rag_files (id, project_id, path, size, mtime_ns, content_hash, indexed_at)"
        " VALUES (1, 1, 'billing.py', 10, 1, 'h', 't'), (2, 1, 'ship.py', 10, 1, 'h', 't')"
    )
    await db.execute(
        "INSERT INTO rag_chunks (id, project_id, file_id, path, start_line, end_line, content,"
        " content_hash, subtokens) VALUES (7, 1, 1, 'billing.py', 1, 2, 'def refund(): pass',"
        " 'c', ''), (8, 1, 1, 'billing.py', 3, 4, 'def payBack(): pass', 'd', 'pay back'),"
        " (9, 1, 2, 'ship.py', 1, 2, 'def ship(): pass', 'e', '')"
    )
    await db.execute(
        "INSERT INTO rag_chunks_fts (rowid, content, symbol, path, subtokens)"
        " SELECT id, content, symbol_terms, path, subtokens FROM rag_chunks"
    )
    await db.close()

    db = await Database.open(path)
    try:
        match = "SELECT rowid FROM rag_files_fts WHERE rag_files_fts MATCH ?"
        assert [tuple(r) for r in await db.fetchall(match, ("refund AND back",))] == [(1,)]
        await db.execute("DELETE FROM rag_files WHERE id = 1")
        assert await db.fetchall(match, ("refund OR back",)) == []
        assert await db.scalar("SELECT count(*) FROM rag_files_fts_docsize") == 1
        await db.execute("DELETE FROM projects")
        assert await db.fetchall(match, ("ship OR pass",)) == []
        assert await db.scalar("SELECT count(*) FROM rag_files_fts_docsize") == 0
        totals = await db.scalar("SELECT block FROM rag_files_fts_data WHERE id = 1")
        assert totals == bytes(len(totals)), "no row nor token left in BM25's totals"
    finally:
        await db.close()


async def test_upgrade_marks_the_snapshots_of_runs_worktrees(tmp_path: Path) -> None:
    """Migration 0012: rows from before the origin column are classified by what made them;
    a final snapshot is the workspace's only when review took it after applying changes."""
    path = tmp_path / "d.db"
    db = await Database.open(path, load_migrations()[:11])
    await db.execute(
        "INSERT INTO projects (id, name, slug, root_path, created_at, updated_at)"
        " VALUES (1, 'w', 'w', '/w', 't', 't')"
    )
    rows = [
        (1, "pre_run", "before run 1: fix"),
        (2, "pre_command", "before `ruff format`"),
        (3, "final", "run 1 result"),
        (4, "pre_apply", "before applying changes of run 1"),
        (5, "final", "after applying changes 4, 5"),
        (6, "manual", ""),
    ]
    for snapshot_id, kind, description in rows:
        await db.execute(
            "INSERT INTO snapshots (id, project_id, type, description, ref, commit_sha,"
            " tree_sha, created_at) VALUES (?, 1, ?, ?, 'r', 'c', 't', 't')",
            (snapshot_id, kind, description),
        )
    await db.close()

    db = await Database.open(path)
    try:
        found = await db.fetchall("SELECT id, origin FROM snapshots ORDER BY id")
        assert [tuple(row) for row in found] == [
            (1, "workspace"),
            (2, "worktree"),
            (3, "worktree"),
            (4, "workspace"),
            (5, "workspace"),
            (6, "workspace"),
        ]
    finally:
        await db.close()


def _plan(*sqls: str) -> list[Migration]:
    return [Migration(i, f"{i:04d}_m.sql", sql) for i, sql in enumerate(sqls, start=1)]


async def test_older_database_is_upgraded_in_order(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    first = _plan("CREATE TABLE a (x INTEGER);")
    db = await Database.open(path, first)
    await db.execute("INSERT INTO a VALUES (1)")
    await db.close()

    both = _plan("CREATE TABLE a (x INTEGER);", "ALTER TABLE a ADD COLUMN y TEXT DEFAULT 'new';")
    db = await Database.open(path, both)
    try:
        assert db.schema_version == 2
        row = await db.fetchone("SELECT x, y FROM a")
        assert tuple(row) == (1, "new")
    finally:
        await db.close()


async def test_newer_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    db = await Database.open(path, _plan("CREATE TABLE a (x);", "CREATE TABLE b (y);"))
    await db.close()
    before = path.read_bytes()

    with pytest.raises(SchemaTooNewError, match="schema version 2.*knows only up to 1"):
        await Database.open(path, _plan("CREATE TABLE a (x);"))
    assert path.read_bytes() == before


async def test_failing_migration_rolls_back_completely(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    broken = _plan("CREATE TABLE a (x);", "CREATE TABLE b (y); INSERT INTO nowhere VALUES (1);")
    with pytest.raises(DatabaseError, match="0002_m.sql failed"):
        await Database.open(path, broken)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "a" in names and "b" not in names
    finally:
        conn.close()


async def test_concurrent_writers_never_see_busy(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "d.db")
    try:
        project = await store.projects.register(
            root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
        )
        runs = [
            await store.runs.create(
                project_id=project.id, title=f"r{i}", prompt="p", status=RunStatus.RUNNING,
                agent="qa", provider="scripted", model=None, mode="review",
                metadata=RunMetadata(),
            )
            for i in range(8)
        ]  # fmt: skip

        async def writer(run_id: int) -> list[int]:
            ids = []
            for n in range(50):
                event = NewEvent(
                    project.id, run_id, EventType.AI_MESSAGE, Severity.INFO, f"{n}", "", {}, "t"
                )
                ids += [e.id for e in await store.events.append([event])]
            return ids

        results = await asyncio.gather(*(writer(run.id) for run in runs))
        all_ids = [i for ids in results for i in ids]
        assert len(set(all_ids)) == 400
        for ids in results:
            assert ids == sorted(ids)
        for run in runs:
            titles = [e.title for e in await store.events.list(project.id, run_id=run.id)]
            assert titles == [str(n) for n in range(50)]
    finally:
        await store.close()


async def test_batch_insert_returns_consecutive_ids_in_order(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "d.db")
    try:
        project = await store.projects.register(
            root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
        )
        batch = [
            NewEvent(project.id, None, EventType.AI_MESSAGE, Severity.INFO, str(n), "", {}, "t")
            for n in range(100)
        ]
        events = await store.events.append(batch)
        stored = await store.events.list(project.id)
        assert [e.id for e in events] == [e.id for e in stored]
        assert [e.title for e in stored] == [str(n) for n in range(100)]
    finally:
        await store.close()


async def _project_with_a_writer(path: Path) -> tuple[SqliteStore, IndexWriter]:
    store = await SqliteStore.open(path)
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    return store, open_index_writer(str(path), project.id)


def _big_file(path: str, megabytes: float) -> IndexBatch:
    """One file whose chunks hold ``megabytes`` of distinct text."""
    lines = [f"def f{i}(): return {i} * {i}" for i in range(int(megabytes * 40_000))]
    chunks = [
        NewChunk(
            symbol=f"m.f{start}",
            name=f"f{start}",
            kind="function",
            start_line=start + 1,
            end_line=start + 100,
            content="\n".join(lines[start : start + 100]),
            content_hash=str(start),
            symbol_terms="",
            subtokens="",
        )
        for start in range(0, len(lines), 100)
    ]
    return IndexBatch([FileUpdate(path, "python", "code", 1, 1, "h", None, chunks)])


async def test_an_index_worker_leaves_checkpoints_to_the_daemon(tmp_path: Path) -> None:
    """A worker's commit never copies the WAL into the database itself (with its fsyncs, while
    the other worker waits for the write turn), even past SQLite's default 1,000 pages."""
    path = tmp_path / "d.db"
    store, writer = await _project_with_a_writer(path)
    await store.close()
    before = path.stat().st_size
    try:
        writer.apply(_big_file("big.py", 6))
        assert path.stat().st_size == before  # still in the WAL
    finally:
        writer.close()


async def _grown_past(path: Path, size: int) -> bool:
    for _ in range(200):  # the checkpointer wakes every half second
        if path.stat().st_size > size:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_the_daemon_checkpoints_what_index_workers_commit(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    store, writer = await _project_with_a_writer(path)
    try:
        assert await _grown_past(path, 4096)  # the schema and the project, checkpointed
        writer.apply(_big_file("small.py", 0.5))
        assert await _grown_past(path, 500_000)
    finally:
        writer.close()
        await store.close()


class _MeetBeforeLocking:
    """A connection that waits for the other migrator before it first asks for the write
    lock: both have read the schema version by then, and one has to wait for the other."""

    def __init__(self, conn: sqlite3.Connection, barrier: threading.Barrier) -> None:
        self._conn = conn
        self._barrier = barrier
        self._met = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def _meet(self, sql: str) -> None:
        if "BEGIN IMMEDIATE" in sql and not self._met:
            self._met = True
            self._barrier.wait(10)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._meet(sql)
        return self._conn.execute(sql, *args)

    def executescript(self, sql: str) -> sqlite3.Cursor:
        self._meet(sql)
        return self._conn.executescript(sql)


def test_two_processes_migrating_a_new_database_at_once_both_succeed(tmp_path: Path) -> None:
    """Two commands started together on a new workspace: the one that waited for the write
    lock found the migrations applied ("table projects already exists")."""
    path = str(tmp_path / "d.db")
    plan = load_migrations()
    barrier = threading.Barrier(2)
    conns = [connect(path) for _ in range(2)]
    try:
        with ThreadPoolExecutor(2) as pool:
            versions = list(
                pool.map(lambda c: migrate(_MeetBeforeLocking(c, barrier), plan, path), conns)
            )
    finally:
        for conn in conns:
            conn.close()
    assert versions == [plan[-1].version] * 2
