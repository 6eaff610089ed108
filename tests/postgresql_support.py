"""A real PostgreSQL for the tests of the PostgreSQL adapter, or the reason there is none.

``DEVFACTORY_TEST_POSTGRESQL`` may name a server (``postgresql://user@host/db``, a user who
may create databases). Otherwise the first test that needs one starts a private cluster from
the machine's PostgreSQL binaries (Debian's ``postgresql`` package, which puts them in
``/usr/lib/postgresql/<version>/bin``): initdb in a temporary folder, listening only on a
Unix socket there, owned by a non-root user (PostgreSQL refuses to run as root; as root the
cluster runs as Debian's ``postgres`` user). Every test gets a database of its own.

Without psycopg or PostgreSQL the tests that need it skip with the reason, unless
``DEVFACTORY_REQUIRE_POSTGRESQL=1`` (CI) turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

SERVER_VARIABLE = "DEVFACTORY_TEST_POSTGRESQL"
REQUIRE_VARIABLE = "DEVFACTORY_REQUIRE_POSTGRESQL"
USER = "devfactory"


class PostgresServer:
    """A server the tests may create databases on."""

    def __init__(self, admin_url: str, folder: Path | None = None, run_as: str | None = None):
        self.admin_url = admin_url
        self._folder = folder
        self._run_as = run_as
        self._template_name: str | None = None

    def new_database(self, migrated: bool = False) -> str:
        """The URL of a new database: empty, or ``migrated`` (a copy of a template database
        the adapter migrated once, which saves every daemon test the migrations)."""
        import psycopg

        name = f"test_{uuid.uuid4().hex[:12]}"
        source = f' TEMPLATE "{self._template()}" STRATEGY FILE_COPY' if migrated else ""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{source}')
        return self.url(name)

    def _template(self) -> str:
        """The migrated template's name, made at the first call (in a thread of its own: the
        adapter is async and the caller may be inside pytest-asyncio's loop)."""
        if self._template_name is None:
            url = self.new_database()
            problem: list[BaseException] = []

            def migrate() -> None:
                async def open_and_close() -> None:
                    from devfactory.storage import open_store

                    await (await open_store(url)).close()

                try:
                    asyncio.run(open_and_close())
                except BaseException as exc:  # re-raised in the caller's thread
                    problem.append(exc)

            thread = threading.Thread(target=migrate, name="postgresql-template")
            thread.start()
            thread.join()
            if problem:
                raise problem[0]
            self._template_name = urlsplit(url).path.lstrip("/")
        return self._template_name

    def url(self, database: str) -> str:
        """The server's URL with ``database`` in place of the one it names."""
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{database}"))

    def stop(self) -> None:
        if self._folder is None:
            return
        with contextlib.suppress(Unavailable):  # already gone: its folder goes all the same
            _run(self._run_as, [_binary("pg_ctl"), "stop", "-D", str(self._folder / "data"),
                                "-m", "immediate"])  # fmt: skip
        shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None


_server: PostgresServer | None = None
_problem: str | None = None


def postgres_server() -> PostgresServer:
    """The tests' server, started at the first call; skips (or fails, where required) with
    the reason when there can be none."""
    global _server, _problem
    if _server is None and _problem is None:
        try:
            _server = _start()
        except Unavailable as exc:
            _problem = str(exc)
    if _server is not None:
        return _server
    assert _problem is not None
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{REQUIRE_VARIABLE}=1 but {_problem}")
    pytest.skip(_problem)


class Unavailable(Exception):
    """Why there is no PostgreSQL to test against."""


def _start() -> PostgresServer:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable(
            "psycopg is not installed (uv sync installs devfactory-storage[postgresql])"
        ) from None
    if url := os.environ.get(SERVER_VARIABLE):
        return PostgresServer(url)
    if not _binary("initdb"):
        raise Unavailable(
            "no PostgreSQL server binaries (apt-get install postgresql, or set "
            f"{SERVER_VARIABLE} to a server's URL)"
        )
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable(
                "PostgreSQL refuses to run as root and there is no postgres user to run it as"
            ) from None
        run_as = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="devfactory-pg-"))
    if run_as is not None:
        shutil.chown(folder, run_as, run_as)
    data = folder / "data"
    _run(run_as, [_binary("initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions"])  # fmt: skip
    # Fast and private: no TCP, a socket in the folder, durability traded for speed.
    options = f"-k {folder} -c listen_addresses='' -F -c full_page_writes=off"
    _run(run_as, [_binary("pg_ctl"), "start", "-D", str(data), "-w", "-s",
                  "-l", str(folder / "server.log"), "-o", options])  # fmt: skip
    server = PostgresServer(f"postgresql://{USER}@/postgres?host={quote(str(folder), safe='')}",
                            folder, run_as)  # fmt: skip
    atexit.register(server.stop)
    return server


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else ""


def _run(user: str | None, command: list[str]) -> None:
    result = subprocess.run(command, user=user, capture_output=True, text=True, cwd="/")
    if result.returncode != 0:
        raise Unavailable(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
