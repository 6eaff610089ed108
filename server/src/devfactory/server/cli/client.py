"""Starting a daemon for a CLI command and turning protocol errors into clean exits."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from devfactory.protocol.client import DaemonClient
from devfactory.protocol.errors import RpcError

T = TypeVar("T")


def daemon_command() -> list[str]:
    """This very installation's daemon (not whatever ``devfactory`` is first on PATH).

    ``-P``: the workspace is the daemon's working directory, and a workspace with its own
    ``devfactory/`` folder must not shadow the installed package.
    """
    return [sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio"]


@asynccontextmanager
async def connect(
    workspace: Path, settings: dict[str, Any] | None = None
) -> AsyncIterator[DaemonClient]:
    async with DaemonClient.spawn(
        workspace,
        command=daemon_command(),
        settings=settings,
        client_name="devfactory-cli",
        own_runs_only=True,  # a CLI daemon lives only as long as its command
        on_notification=show_warnings,
    ) as client:
        yield client


WARNING = 2
"""LSP MessageType.Warning (Error is 1)."""


def show_warnings(method: str, params: Any) -> None:
    """The daemon's warnings and errors for the user (``window/showMessage``: settings it
    ignored, a feature that is off), on stderr, where an editor would pop them up."""
    shown = method == "window/showMessage" and isinstance(params, dict)
    if shown and params.get("type", WARNING + 1) <= WARNING:
        click.secho(f"Warning: {params.get('message', '')}", fg="yellow", err=True)


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run a CLI coroutine; daemon errors become one clear line and exit status 1."""
    with clean_exits():
        return asyncio.run(main())  # type: ignore[arg-type]


@contextmanager
def clean_exits() -> Iterator[None]:
    """Daemon errors (one that cannot start, a request refused) as one clear line and exit
    status 1, and Ctrl+C as click's "Aborted!", for every command that drives a daemon."""
    try:
        yield
    except RpcError as exc:
        raise click.ClickException(exc.message) from None
    except ConnectionError as exc:
        raise click.ClickException(
            f"{exc}: see .devfactory/logs/daemon.log in the workspace for details"
        ) from None
    except KeyboardInterrupt:
        raise click.Abort() from None


def request(workspace: Path, method: str, params: Any) -> Any:
    """One request to a daemon started for ``workspace`` (the result decoded by the protocol
    client); its errors become clean exits."""

    async def go() -> Any:
        async with connect(workspace) as client:
            return await client.call(method, params)

    return run_async(go)
