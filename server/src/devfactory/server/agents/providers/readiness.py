"""Can the default provider take a run now? ``devfactory/health`` asks, so a missing key or a
local model server that is down shows before the first run fails on it.

The check builds the provider as a run would (``create_provider``: keys from the environment,
the model, the executable or the script) and, when its base URL is on this machine, opens one
TCP connection to it with a short timeout. A base URL on another host is never contacted.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from devfactory.protocol.project import ProviderCheck
from devfactory.protocol.settings import Settings
from devfactory.storage import Store

from .base import ProviderUnavailable
from .registry import create_provider

CONNECT_TIMEOUT_S = 0.5
LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def local_address(base_url: str) -> tuple[str, int] | None:
    """(host, port) of a base URL on this machine (loopback), else None."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if host in LOCAL_NAMES:
        return host, port
    try:
        return (host, port) if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


async def answers(host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """None when something accepts a connection at host:port, else why not."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return f"no answer in {timeout:g} s"
    except OSError as exc:
        return exc.strerror or str(exc)
    writer.close()
    return None


async def check_provider(settings: Settings, workspace: Path, store: Store) -> ProviderCheck:
    name = settings.default_provider
    config = settings.providers.get(name)
    model = config.model if config else None
    try:
        create_provider(name, settings, model=None, workspace=workspace, store=store)
    except ProviderUnavailable as exc:
        return ProviderCheck(name=name, model=model, ready=False, problem=str(exc))
    address = local_address(config.base_url) if config and config.base_url else None
    if config and config.base_url and address is not None:
        failure = await answers(*address)
        if failure is not None:
            return ProviderCheck(
                name=name,
                model=model,
                ready=False,
                problem=(
                    f"{name}: nothing answers at {config.base_url} ({failure}); start the "
                    f"model server or fix providers.{name}.baseUrl"
                ),
            )
    return ProviderCheck(name=name, model=model, ready=True)
