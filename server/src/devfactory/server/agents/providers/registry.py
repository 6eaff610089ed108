"""Choosing and building a run's provider from the settings.

``create_provider`` is cheap and does no I/O beyond reading the environment and PATH: the
SDKs are imported on the first model call, accounts are registered in the database on first
use. Every misconfiguration is a ``ProviderUnavailable`` naming the setting or variable to set.
"""

from __future__ import annotations

import os
from pathlib import Path

from devfactory.protocol.settings import ProviderSettings, Settings
from devfactory.storage import Store

from ...team.callers import refusal
from . import anthropic_provider, claude_code, local_shell, openai_provider, scripted
from .base import ProviderUnavailable
from .redaction import register_secret
from .request import Build, Provider, ProviderRequest

BUILDERS: dict[str, Build] = {
    "openai": openai_provider.build,
    "anthropic": anthropic_provider.build,
    "claude_code": claude_code.build,
    "local_shell": local_shell.build,
    "scripted": scripted.build,
}
"""Every provider, by the name ``providers.<name>`` configures: adding one is its module (with
its ``build``) and a line here; its defaults, if it should work unconfigured, go in the
settings (``protocol/settings.py``)."""


def _redact_every_configured_key(settings: Settings) -> None:
    """Any provider's key, not only this one's: an external agent may print them all."""
    for config in settings.providers.values():
        for var in config.api_key_env:
            if key := os.environ.get(var, "").strip():
                register_secret(key, var)


def create_provider(
    name: str,
    settings: Settings,
    *,
    model: str | None,
    workspace: Path,
    store: Store,
    team_key: str | None = None,
) -> Provider:
    """The provider ``name`` as configured in ``settings.providers``.

    ``model`` overrides ``providers.<name>.model`` (for ``scripted`` it is the script path);
    ``team_key`` is the key stored for the team, decrypted (an account after the variables').
    """
    _redact_every_configured_key(settings)
    builder = BUILDERS.get(name)
    if builder is None:
        raise ProviderUnavailable(
            f"unknown provider {name!r}; choose one of: {', '.join(BUILDERS)}"
        )
    if (refused := refusal(name)) is not None:  # a gateway's client: not its files to read
        raise ProviderUnavailable(refused)
    config = settings.providers.get(name) or Settings().providers.get(name) or ProviderSettings()
    return builder(ProviderRequest(name, config, model, workspace, store, team_key))
