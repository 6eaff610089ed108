"""Team mode's commands: ``devfactory gateway``, ``devfactory token ...``, ``devfactory team ...``.

``token`` and ``team`` act on the workspace's store directly (the team's database when
``storage``/``DEVFACTORY_STORAGE`` names one); no daemon is started for them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from ..event_loop import run_service
from .options import WORKSPACE

if TYPE_CHECKING:
    from devfactory.storage import Store
    from devfactory.storage.ports import ApiToken

T = TypeVar("T")


def _with_store(workspace: Path, work: Callable[..., Awaitable[T]]) -> T:
    """``work(store)`` on the workspace's store; storage errors as one clear line."""
    return _with_project(workspace, lambda store, _: work(store), register=False)


def _with_project(
    workspace: Path, work: Callable[[Store, int | None], Awaitable[T]], *, register: bool
) -> T:
    """``work(store, project_id)`` with the workspace's project (None when it is not in the
    store; registered first when ``register``); storage errors as one clear line."""
    from devfactory.storage import DatabaseError, open_store

    from ..config import load_settings, storage_location
    from ..paths import StatePaths
    from ..project.registration import project_id

    async def go() -> T:
        root = workspace.resolve()
        settings, _ = load_settings(root, None)
        paths = StatePaths(root)
        paths.ensure()
        store = await open_store(storage_location(settings, paths.database))
        try:
            found = await project_id(store, root, settings.team.project, register=register)
            return await work(store, found)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except (DatabaseError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _transport_problem(
    host: str, cert: Path | None, key: Path | None, insecure_no_tls: bool
) -> str | None:
    """Why these options cannot make a gateway that is what they say, or None: TLS needs both
    --cert and --key; --insecure-no-tls takes neither, and listens on this host only (for a
    TLS-terminating proxy here), never where tokens would cross a network in clear."""
    if insecure_no_tls:
        if cert is not None or key is not None:
            return "--insecure-no-tls serves plain ws://: drop --cert/--key, or drop it for TLS"
        if not _loopback(host):
            return (f"--insecure-no-tls listens on this host only (a TLS-terminating proxy here), "
                    f"not on {host}: use --host 127.0.0.1, or --cert and --key")  # fmt: skip
        return None
    if cert is None or key is None:
        return "give --cert and --key (TLS), or --insecure-no-tls"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name other than localhost may resolve anywhere
        return False


@click.command("gateway")
@WORKSPACE
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True,
              help="Port (0: any free port).")  # fmt: skip
@click.option("--cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TLS certificate chain (PEM).")  # fmt: skip
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The certificate's private key (PEM).")  # fmt: skip
@click.option("--insecure-no-tls", is_flag=True,
              help="Plain ws://, behind a TLS-terminating proxy on this host.")  # fmt: skip
def gateway_command(
    workspace: Path, host: str, port: int, cert: Path | None, key: Path | None,
    insecure_no_tls: bool,
) -> None:  # fmt: skip
    """Serve WORKSPACE's devfactory/* methods over WebSocket with TLS, to token holders."""
    if problem := _transport_problem(host, cert, key, insecure_no_tls):
        raise click.UsageError(problem)
    from ..logs import configure_startup_logging
    from ..team.gateway import Gateway
    from ..team.gateway_serve import GatewayServer, tls_context

    configure_startup_logging()

    async def serve() -> None:
        tls = None if cert is None or key is None else tls_context(cert, key)
        gateway = await Gateway.open(workspace)
        server = GatewayServer(gateway)
        try:  # the gateway's threads would keep the process alive if listening failed
            bound = await server.start(host, port, tls)
            scheme = "wss" if tls is not None else "ws"
            click.echo(f"devfactory gateway listening on {scheme}://{host}:{bound}", err=True)
            sys.stderr.flush()
            stop = asyncio.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):  # finish writes, close cleanly
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
            await stop.wait()
        finally:
            await server.close()
            await gateway.close()

    try:
        run_service(serve())
    except (RuntimeError, OSError) as exc:  # the workspace, the port, the certificate
        raise click.ClickException(str(exc)) from None


@click.group("token")
def token_group() -> None:
    """API tokens for the gateway: create (shown once), list, revoke."""


@token_group.command("create")
@WORKSPACE
@click.option("--name", required=True, help="Who or what holds it (ci, alice-laptop).")
@click.option("--ability", "abilities", multiple=True,
              help="runs:create, runs:control, changes:approve, git:push, admin.")  # fmt: skip
def token_create(workspace: Path, name: str, abilities: tuple[str, ...]) -> None:
    """Create a token and print it, once: only its hash is stored."""
    from ..team.authority import Authority

    async def create(store: Store, project: int | None) -> tuple[str, ApiToken]:
        assert project is not None  # registered
        return await Authority(store, project).create(name, list(abilities))

    secret, record = _with_project(workspace, create, register=True)
    click.echo(secret)
    shown = ", ".join(record.abilities) or "read-only"
    click.echo(f"token {record.name!r} ({shown}); it is not shown again", err=True)


@token_group.command("list")
@WORKSPACE
def token_list(workspace: Path) -> None:
    """List the workspace's project's tokens: name, hint, abilities, last use, revocation."""

    async def listed(store: Store, project: int | None) -> list[ApiToken]:
        return [] if project is None else await store.api_tokens.list(project)

    for token in _with_project(workspace, listed, register=False):
        state = f"revoked {token.revoked_at}" if token.revoked_at else "live"
        if token.project_id is None and not token.revoked_at:
            state = "refused: made before tokens belonged to a project; re-create it"
        used = token.last_used_at or "never used"
        abilities = ",".join(token.abilities) or "read-only"
        click.echo(f"{token.name}\t{token.hint}…\t{abilities}\t{used}\t{state}")


@token_group.command("revoke")
@WORKSPACE
@click.argument("name")
def token_revoke(workspace: Path, name: str) -> None:
    """Revoke the project's live token called NAME (refused from its next request on)."""

    async def revoke(store: Store, project: int | None) -> bool:
        return project is not None and await store.api_tokens.revoke(project, name)

    if not _with_project(workspace, revoke, register=False):
        raise click.ClickException(f"no live token is called {name!r} (devfactory token list)")
    click.echo(f"revoked {name!r}")


@click.group("team")
def team_group() -> None:
    """Team settings kept in the team's database: provider keys (encrypted)."""


@team_group.command("set-key")
@WORKSPACE
@click.argument("provider")
def team_set_key(workspace: Path, provider: str) -> None:
    """Store PROVIDER's API key for the team, encrypted (read from stdin or a prompt)."""
    from ..team.keys import TeamKeyError, TeamKeys

    secret = (
        click.prompt(f"{provider} API key", hide_input=True)
        if sys.stdin.isatty()
        else sys.stdin.read()
    )
    keys: list[TeamKeys] = []

    async def store_key(store: object) -> None:
        keys.append(TeamKeys(store))  # type: ignore[arg-type]
        await keys[0].set(provider, secret)

    try:
        _with_store(workspace, store_key)
    except TeamKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"stored the {provider} key, encrypted with {keys[0].key_file}")


@team_group.command("keys")
@WORKSPACE
def team_keys(workspace: Path) -> None:
    """List the providers whose key the team stored (never the keys)."""
    for key in _with_store(workspace, lambda s: s.team_keys.list()):
        click.echo(f"{key.provider}\tset {key.updated_at}")


COMMANDS = [gateway_command, token_group, team_group]
