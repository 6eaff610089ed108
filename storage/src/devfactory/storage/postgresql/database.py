"""A PostgreSQL database shared by a team: a pool of psycopg 3 async connections, migrations,
and the extensions search uses.

Reads run in autocommit on any pooled connection; a write is one async function run inside
one transaction (``Database.write``), so a failure or a cancellation anywhere in it leaves
nothing behind. JSON columns come back as text, for the one codec; text cannot hold NUL in
PostgreSQL, so NULs in what is written become U+FFFD (``pgcodec``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from devfactory.protocol.runs import Run

from ..errors import DatabaseError, SchemaTooNewError, StorageFull
from ..factory import shown_location
from ..migrations import Migration, load_migrations, too_new
from .pgcodec import configure

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")

Connection = AsyncConnection[DictRow]
Params = Sequence[Any] | Mapping[str, Any]
"""Parameters of a statement: positional (``%s``) or named (``%(name)s``)."""
MIGRATIONS_LOCK = 0x0DEF_AC70
"""Advisory lock held while migrating: daemons and workers opening one database at once
migrate it once."""
POOL_MAX = 8

Fences = dict[int, int]
"""Lease epochs by run id: the runs this process drives under a lease (team workers)."""
FENCES: ContextVar[Fences] = ContextVar("devfactory_fences", default={})  # noqa: B039 (never mutated)
"""The fences of the database whose write transaction runs now (set by ``Database.write``),
for the statements that check them (``events.insert_events``, ``runs._update``)."""


def storage_full(exc: psycopg.Error, url: str) -> StorageFull | None:
    """``exc`` as a :class:`StorageFull`, if the server's disk is full (SQLSTATE 53100)."""
    if isinstance(exc, psycopg.errors.DiskFull):
        return StorageFull(shown_location(url))
    return None


async def _configure(conn: Connection) -> None:
    configure(conn)


class Database:
    """An open PostgreSQL database. Use :meth:`open`; close with :meth:`close`."""

    def __init__(self, url: str, pool: AsyncConnectionPool[Connection], version: int) -> None:
        self.url = url
        self.schema_version = version
        self._pool = pool
        self.vector_version: str | None = None
        """pgvector's version when ``CREATE EXTENSION vector`` worked, else None."""
        self.vector_problem: str | None = None
        """Why pgvector is not used (distances are then computed in SQL)."""
        self.fences: Fences = {}
        """Runs this process holds the lease of, with its epoch: every write for them checks
        that the epoch is still the run's, else raises ``LeaseLost`` (``leases.py``)."""
        self.on_queued: list[Callable[[Connection, Run], Awaitable[None]]] = []
        """Called inside the transaction that makes a run queued (with the connection and the
        run): team mode enqueues the run's job there, so both commit together."""

    @classmethod
    async def open(cls, url: str, migrations: Sequence[Migration] | None = None) -> Database:
        """Connect, migrate and enable pgvector if the server has it.

        The first connection is made alone, so a server that cannot be reached or refuses
        the login fails at once with libpq's reason; it migrates, then the pool opens.
        """
        plan = list(migrations) if migrations is not None else load_migrations(__package__ or "")
        shown = shown_location(url)
        try:
            first = await AsyncConnection.connect(url, autocommit=True, row_factory=dict_row)
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot connect to the database {shown}: {exc}") from None
        try:
            version = await _migrate(first, plan, shown)
            vector_version, vector_problem = await _enable_vectors(first)
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot use the database {shown}: {exc}") from None
        finally:
            await first.close()
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            kwargs={"autocommit": True, "row_factory": dict_row},
            connection_class=AsyncConnection[DictRow],
            configure=_configure,
            open=False,
            name="devfactory",
        )
        try:
            await pool.open(wait=True, timeout=10)
        except BaseException:
            await pool.close()
            raise
        db = cls(url, pool, version)
        db.vector_version, db.vector_problem = vector_version, vector_problem
        return db

    async def close(self) -> None:
        await self._pool.close()

    def stop_threads(self) -> None:
        """Nothing to stop: the pool's workers are tasks of the (gone) event loop, not
        threads, and the server drops the connections as the process exits."""

    # -- writes --------------------------------------------------------------------------------

    async def write(
        self,
        fn: Callable[Concatenate[Connection, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``await fn(connection, *args)`` inside one transaction: all of it commits, or none.

        A full disk on the server raises :class:`StorageFull`.
        """
        fenced = FENCES.set(self.fences)
        try:
            async with self._pool.connection() as conn, conn.transaction():
                return await fn(conn, *args, **kwargs)
        except psycopg.errors.DiskFull as exc:
            raise StorageFull(shown_location(self.url)) from exc
        finally:
            FENCES.reset(fenced)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write statement; returns how many rows it changed."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def returning(self, sql: str, params: Params = ()) -> DictRow | None:
        """One write statement with RETURNING; its first row."""
        async with self._pool.connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()

    # -- reads ---------------------------------------------------------------------------------

    async def fetchone(self, sql: str, params: Params = ()) -> DictRow | None:
        async with self._pool.connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[DictRow]:
        async with self._pool.connection() as conn:
            return await (await conn.execute(sql, params)).fetchall()

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else next(iter(row.values()))

    async def check_writes(self) -> str | None:
        """Why writes fail now, or None: an unreachable server, or a read-only one."""
        try:
            read_only = await self.scalar("SHOW transaction_read_only")
        except psycopg.Error as exc:
            return f"the database cannot be reached: {exc}"
        return "the database is read-only (a standby?)" if read_only == "on" else None


async def _enable_vectors(conn: Connection) -> tuple[str | None, str | None]:
    """(pgvector's version, None) if ``CREATE EXTENSION vector`` works, else (None, why)."""
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        problem = f"CREATE EXTENSION vector failed: {exc.diag.message_primary}"
        log.info("%s; vector distances are computed in SQL", problem)
        return None, problem
    cursor = await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    row = await cursor.fetchone()
    return (None if row is None else str(row["extversion"])), None


async def _migrate(conn: Connection, plan: Sequence[Migration], where: str) -> int:
    """Bring the schema up to date, one transaction per migration, under an advisory lock."""
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = await (
            await conn.execute("SELECT coalesce(max(version), 0) AS v FROM schema_migrations")
        ).fetchone()
        current = int(row["v"]) if row else 0
        latest = plan[-1].version if plan else 0
        if current > latest:
            raise SchemaTooNewError(too_new(where, current, latest))
        for migration in plan:
            if migration.version <= current:
                continue
            log.info("applying migration %s", migration.name)
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
            except psycopg.Error as exc:
                raise DatabaseError(f"migration {migration.name} failed: {exc}") from exc
            current = migration.version
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATIONS_LOCK,))
