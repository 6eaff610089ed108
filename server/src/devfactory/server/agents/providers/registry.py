"""Choosing and building a run's provider from the settings.

``create_provider`` is cheap and does no I/O beyond reading the environment and PATH: the
SDKs are imported on the first model call, accounts are registered in the database on first
use. Every misconfiguration is a ``ProviderUnavailable`` naming the setting or variable to set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from devfactory.protocol.settings import ProviderSettings, Settings
from devfactory.storage import Store

from .accounts import AccountPool
from .anthropic_provider import AnthropicProvider
from .base import AutonomousProvider, ChatProvider, ProviderUnavailable
from .claude_code import ClaudeCodeProvider
from .local_shell import LocalShellProvider
from .openai_provider import OpenAIProvider
from .redaction import register_secret
from .scripted import ScriptedProvider, load_script

Provider = ChatProvider | AutonomousProvider


class _Request:
    """What a builder needs: the provider's name and settings, the model, where, the store."""

    def __init__(
        self, name: str, config: ProviderSettings, model: str | None, workspace: Path, store: Store
    ) -> None:
        self.name = name
        self.config = config
        self.model = model or config.model
        self.workspace = workspace
        self.store = store

    def required_model(self) -> str:
        if not self.model:
            raise ProviderUnavailable(
                f"{self.name}: no model chosen; set providers.{self.name}.model or pass --model"
            )
        return self.model

    def pool(self, *, keyless: bool) -> AccountPool:
        return AccountPool(
            self.name,
            self.config.api_key_env,
            self.store.provider_accounts,
            base_url=self.config.base_url,
            keyless=keyless,
        )

    def executable(self, program: str, setting: str) -> str:
        found = shutil.which(program)
        if found is None:
            raise ProviderUnavailable(
                f"{self.name}: `{program}` was not found on PATH; install it or set "
                f"providers.{self.name}.{setting}"
            )
        return found


def _openai(request: _Request) -> Provider:
    # A custom base_url is usually a local server (Ollama, vLLM...) that takes no key.
    pool = request.pool(keyless=request.config.base_url is not None)
    return OpenAIProvider(
        name=request.name, model=request.required_model(), settings=request.config, pool=pool
    )


def _anthropic(request: _Request) -> Provider:
    pool = request.pool(keyless=request.config.base_url is not None)
    return AnthropicProvider(
        name=request.name, model=request.required_model(), settings=request.config, pool=pool
    )


def _claude_code(request: _Request) -> Provider:
    executable = request.executable(request.config.executable or "claude", "executable")
    return ClaudeCodeProvider(
        executable=executable,
        model=request.model,
        settings=request.config,
        pool=request.pool(keyless=True),
    )


def _local_shell(request: _Request) -> Provider:
    command = list(request.config.command)
    if not command:
        raise ProviderUnavailable(
            "local_shell: no command configured; set providers.local_shell.command to an argv "
            'template such as ["aider", "--yes", "--message", "{prompt}"]'
        )
    command[0] = request.executable(command[0], "command")
    return LocalShellProvider(command=command, model=request.model, settings=request.config)


def _scripted(request: _Request) -> Provider:
    """The script is the model argument (a path relative to the workspace) or the setting."""
    script = request.model or request.config.script
    if not script:
        raise ProviderUnavailable(
            "scripted: no script; pass its path as the model or set providers.scripted.script"
        )
    path = request.workspace / script
    return ScriptedProvider(load_script(path), model=script)


BUILDERS: dict[str, Callable[[_Request], Provider]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "claude_code": _claude_code,
    "local_shell": _local_shell,
    "scripted": _scripted,
}


def _redact_every_configured_key(settings: Settings) -> None:
    """Any provider's key, not only this one's: an external agent may print them all."""
    for config in settings.providers.values():
        for var in config.api_key_env:
            if key := os.environ.get(var, "").strip():
                register_secret(key, var)


def create_provider(
    name: str, settings: Settings, *, model: str | None, workspace: Path, store: Store
) -> Provider:
    """The provider ``name`` as configured in ``settings.providers``.

    ``model`` overrides ``providers.<name>.model`` (for ``scripted`` it is the script path).
    """
    _redact_every_configured_key(settings)
    builder = BUILDERS.get(name)
    if builder is None:
        raise ProviderUnavailable(
            f"unknown provider {name!r}; choose one of: {', '.join(BUILDERS)}"
        )
    config = settings.providers.get(name) or Settings().providers.get(name) or ProviderSettings()
    return builder(_Request(name, config, model, workspace, store))
