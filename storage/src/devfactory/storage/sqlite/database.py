"""The SQLite database of one workspace: connections, pragmas, sqlite-vec and migrations.

This machine's (and many macOS) Pythons cannot load SQLite extensions, so connections come
from ``sqlean`` (a bundled modern SQLite with FTS5 and extension loading) and are handed to
aiosqlite. Every write is one job on the single writer connection's thread, BEGIN to COMMIT:
jobs queue on that thread, so concurrent runs never see SQLITE_BUSY, and a cancelled caller
cannot leave the connection inside a transaction. Two more connections serve reads (WAL lets
them run alongside the writer and each other).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import sqlean

from ..errors import DatabaseError, SchemaTooNewError, StorageFull, full_disk
from ..migrations import Migration, too_new
from ..migrations import load_migrations as numbered_migrations

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_INTERVAL_S = 0.5
WRITER_AUTOCHECKPOINT_PAGES = 10_000
"""Writers (the store's, index workers') checkpoint by themselves only if the background
checkpointer fell this far behind: a checkpoint's fsyncs then never stall a commit (with
SQLite's default of 1,000 pages, an index worker checkpointed every 4 MB while the other
waited for its write turn: a cold pass over Django took 1.5-2x longer)."""
MAX_PAGES_VARIABLE = "DEVFACTORY_DB_MAX_PAGES"
"""A ceiling on the database's size in pages for the daemon's writes (SQLite's
``max_page_count``): tests fill it to see what a full disk does, with SQLite's own
SQLITE_FULL."""
SQLITE_FULL = 13
READERS = 2
"""Reader connections, each on a thread of its own: a search's chunk, whole-file and vector
queries run at once (SQLite releases the GIL while it steps), as do reads of concurrent runs."""


def load_migrations() -> list[Migration]:
    """The numbered SQL files shipped in ``devfactory.storage.sqlite.migrations``, in order."""
    return numbered_migrations(__package__ or "devfactory.storage.sqlite")


def sqlite_vec_path() -> str:
    """Path of the sqlite-vec loadable extension, found without importing its package.

    (Importing ``sqlite_vec`` pulls in numpy, which costs ~0.4 s of start-up for nothing.)
    """
    spec = importlib.util.find_spec("sqlite_vec")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("sqlite-vec is not installed: pip install sqlite-vec")
    return str(Path(next(iter(spec.submodule_search_locations))) / "vec0")


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    target = f"file:{path}?mode=ro" if readonly else path
    conn: sqlite3.Connection = sqlean.connect(
        target,
        uri=readonly,
        isolation_level=None,  # autocommit; transactions are explicit BEGIN IMMEDIATE
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    conn.row_factory = sqlean.Row
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec_path())
    conn.enable_load_extension(False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], path: str) -> int:
    """Bring the schema up to date inside one transaction per migration; return the version."""
    current = _schema_version(conn)
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise SchemaTooNewError(too_new(path, current, latest))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for migration in migrations:
        if migration.version <= current:
            continue
        try:
            current = in_transaction(conn, _apply, migration)
        except sqlean.Error as exc:
            raise DatabaseError(f"migration {migration.name} failed: {exc}") from exc
    return current


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _apply(conn: sqlite3.Connection, migration: Migration) -> int:
    """Apply ``migration`` unless another process (a second command started on the same new
    workspace) did while this one waited for the write lock; the schema version after."""
    current = _schema_version(conn)
    if migration.version <= current:
        return current
    log.info("applying migration %s", migration.name)
    for statement in _statements(migration.sql):
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {migration.version}")
    return migration.version


def _statements(script: str) -> Iterator[str]:
    """The statements of ``script``, one by one: ``executescript`` would commit the open
    transaction first. SQLite itself decides where each ends (a trigger's body, a quoted or
    commented ``;``)."""
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlean.complete_statement(statement):
            yield statement
            statement = ""


def storage_full(exc: BaseException, path: str | None) -> StorageFull | None:
    """``exc`` as a :class:`StorageFull` naming ``path``, if it means the disk is full
    (SQLite's SQLITE_FULL included)."""
    if isinstance(exc, sqlean.Error) and getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return StorageFull(path)
    return full_disk(exc, path)


def _unusable(path: str, exc: sqlean.DatabaseError) -> str:
    """What to do about a database SQLite refuses to open."""
    if isinstance(exc, sqlean.OperationalError):  # locked, unreadable: not the file's fault
        return f"cannot open the workspace database {path}: {exc}"
    return (
        f"the workspace database {path} is damaged or is not a DevFactory database ({exc}): "
        f"move it aside (mv {path} {path}.broken) and restart the daemon, which creates a "
        "new one"
    )


async def _on_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    """``fn(sqlite3_connection, *args)`` as one job on the connection's thread."""
    result: T = await conn._execute(fn, conn._conn, *args)  # type: ignore[no-untyped-call]
    return result


def _read(conn: sqlite3.Connection, sql: str, params: Sequence[Any], one: bool) -> Any:
    """One query from start to finish on a reader thread.

    The statement is closed before anything else uses the connection: a cursor left open
    between awaits would hold the reader's WAL snapshot, and a concurrent query would then miss
    rows committed meanwhile (a run reading back the snapshot it had just inserted got None).
    """
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchone() if one else cursor.fetchall()
    finally:
        cursor.close()


def select(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Every row of one query, its statement closed (see ``_read``)."""
    rows: list[sqlite3.Row] = _read(conn, sql, params, False)
    return rows


def in_transaction(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    """``fn(conn, *args)`` between BEGIN IMMEDIATE and COMMIT, on the calling thread.

    Whatever fails, COMMIT included (a disk that fills as the WAL grows), rolls the whole
    transaction back, so the connection is never left inside it.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
        conn.commit()
    except BaseException:
        if conn.in_transaction:
            try:
                conn.rollback()
            except sqlean.Error:
                log.exception("ROLLBACK failed; the writer may be stuck in a transaction")
        raise
    return result


def _statement(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    """One statement; returns the last row id."""
    last = conn.execute(sql, params).lastrowid
    if last is None:
        last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
    return int(last or 0)


def _changes(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    """One statement; returns how many rows it changed."""
    return int(conn.execute(sql, params).rowcount)


def _checkpoint(conn: sqlite3.Connection, seen: int | None) -> int:
    """Copy the WAL into the database if anything was committed since ``seen`` (a
    ``PRAGMA data_version`` of this connection); returns the version now."""
    version = int(conn.execute("PRAGMA data_version").fetchone()[0])
    if version != seen:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    return version


def _probe(conn: sqlite3.Connection) -> None:
    """Take the database's write lock and give it back at once."""
    if conn.in_transaction:
        raise DatabaseError("the writer connection was left inside a transaction")
    conn.execute("BEGIN IMMEDIATE")
    conn.rollback()


class _Readers:
    """Reader connections; each read goes to the one with the fewest reads in flight."""

    def __init__(self, connections: Sequence[aiosqlite.Connection]) -> None:
        self.connections = list(connections)
        self._in_flight = [0] * len(self.connections)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        index = min(range(len(self.connections)), key=self._in_flight.__getitem__)
        self._in_flight[index] += 1
        try:
            return await _on_thread(self.connections[index], fn, *args)
        finally:
            self._in_flight[index] -= 1


class Database:
    """An open workspace database. Use :meth:`open`; close with :meth:`close`."""

    def __init__(
        self,
        path: str,
        writer: aiosqlite.Connection,
        readers: Sequence[aiosqlite.Connection],
        version: int,
        checkpointer: aiosqlite.Connection | None = None,
    ) -> None:
        self.path = path
        self.schema_version = version
        self._writer = writer
        self._readers = _Readers(readers)
        self._write_problem: str | None = None
        """Why the last write failed for want of room, until a write succeeds again."""
        self._checkpointer = checkpointer
        """Its own connection and thread: copies the WAL into the database in the background,
        whichever connection committed (this store's writer or an index worker process's)."""
        self._seen_version: int | None = None
        """The checkpointer's ``PRAGMA data_version`` at the last checkpoint: it changes when
        another connection commits."""
        self._checkpoints: asyncio.Task[None] | None = None
        if checkpointer is not None:
            self._checkpoints = asyncio.get_running_loop().create_task(
                self._checkpoint_loop(), name="sqlite-checkpoints"
            )

    @classmethod
    async def open(
        cls, path: str | Path, migrations: Sequence[Migration] | None = None
    ) -> Database:
        """Open (creating and migrating as needed) the database at ``path``."""
        path_text = str(path)
        if path_text != ":memory:":
            Path(path_text).parent.mkdir(parents=True, exist_ok=True)
        plan = list(migrations) if migrations is not None else load_migrations()
        writer = aiosqlite.Connection(lambda: connect(path_text), iter_chunk_size=256)
        try:
            await writer
            version = await writer._execute(migrate, writer._conn, plan, path_text)  # type: ignore[no-untyped-call]
        except sqlean.DatabaseError as exc:
            await writer.close()
            raise DatabaseError(_unusable(path_text, exc)) from exc
        except BaseException:
            await writer.close()
            raise
        if limit := os.environ.get(MAX_PAGES_VARIABLE):
            await writer.execute(f"PRAGMA max_page_count = {int(limit)}")
        if path_text == ":memory:":
            return cls(path_text, writer, [writer], version)
        # Checkpoints run on their own connection, so a commit never waits for one (with the
        # default, every ~1000th commit copied the WAL back and fsynced: a 10-50 ms stall).
        await writer.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}")
        readers = [
            aiosqlite.Connection(lambda: connect(path_text), iter_chunk_size=256)
            for _ in range(READERS)
        ]
        for reader in readers:
            await reader
        checkpointer = aiosqlite.Connection(lambda: connect(path_text), iter_chunk_size=256)
        await checkpointer
        return cls(path_text, writer, readers, version, checkpointer)

    async def _checkpoint_loop(self) -> None:
        assert self._checkpointer is not None
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            try:
                version = await _on_thread(self._checkpointer, _checkpoint, self._seen_version)
            except sqlean.Error:
                log.warning("WAL checkpoint failed; the writer will checkpoint", exc_info=True)
                continue
            self._seen_version = version

    async def close(self) -> None:
        """Close every connection, the writer after the writes queued before it.

        A close that is itself cancelled (the client hung up during its shutdown request)
        still stops every connection's thread: they are not daemons, and one left running
        kept the process alive after its client was gone.
        """
        try:
            if self._checkpoints is not None:
                self._checkpoints.cancel()
                await asyncio.wait([self._checkpoints])
            if self._checkpointer is not None:
                await self._checkpointer.close()
            for reader in self._readers.connections:
                if reader is not self._writer:
                    await reader.close()
            await self._writer.close()
        finally:
            self.stop_threads()

    def stop_threads(self) -> None:
        """Close without an event loop (process exit after the loop is gone).

        aiosqlite's worker threads are not daemons: a database left open would keep the
        process alive after the client hung up.
        """
        if self._checkpoints is not None:
            self._checkpoints.cancel()
        connections = [*self._readers.connections, self._writer, self._checkpointer]
        for conn in {id(c): c for c in connections if c is not None}.values():
            if conn._connection is not None:
                conn.stop()

    # -- writes --------------------------------------------------------------------------------

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` as one write transaction: one job on the writer thread.

        Being one job is what makes a write safe to cancel: BEGIN to COMMIT (or ROLLBACK) runs
        to its end whatever happens to the awaiting task, which at worst misses the result.
        A full disk raises :class:`StorageFull`, with nothing of the write kept.
        """
        try:
            result: T = await _on_thread(self._writer, in_transaction, fn, *args)
        except (sqlean.Error, OSError) as exc:
            if (full := storage_full(exc, self.path)) is None:
                raise
            self._write_problem = str(full)
            raise full from exc
        self._write_problem = None
        return result

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns ``lastrowid``."""
        return await self.write(_statement, sql, params)

    async def update(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns how many rows it changed."""
        return await self.write(_changes, sql, params)

    async def check_writes(self) -> str | None:
        """Why writes fail now, or None; cheap enough for every ``devfactory/health``.

        Takes the write lock and gives it back on the writer thread (a writer stuck in a
        transaction, or locked out, shows), and reports a disk that was full at the last write
        until a write succeeds again.
        """
        try:
            await _on_thread(self._writer, _probe)
        except (sqlean.Error, DatabaseError) as exc:
            return f"writes fail: {exc}"
        return self._write_problem

    # -- reads ---------------------------------------------------------------------------------

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` as one job on a reader thread (queries that a buffer
        index or a worker process run on their own connections too)."""
        return await self._readers.run(fn, *args)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = await self._readers.run(_read, sql, params, True)
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = await self._readers.run(_read, sql, params, False)
        return rows

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def versions(self) -> tuple[str, str | None]:
        """(SQLite version, sqlite-vec version)."""
        row = await self.fetchone("SELECT sqlite_version(), vec_version()")
        assert row is not None
        return str(row[0]), row[1]
