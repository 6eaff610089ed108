"""``ProviderRequest``: what a provider module's ``build`` gets to make a run's provider."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from devfactory.protocol.settings import ProviderSettings
from devfactory.storage import Store

from .accounts import AccountPool
from .base import AutonomousProvider, ChatProvider, ProviderUnavailable

Provider = ChatProvider | AutonomousProvider
Build = Callable[["ProviderRequest"], Provider]
"""A provider module's ``build``: the provider for one run, or ProviderUnavailable naming
the setting or variable to set."""


TEAM_ACCOUNT = "team key"
"""The account name of a key stored for the team (``devfactory team set-key``)."""


class ProviderRequest:
    """The provider's name and settings, the model, where the run works, the store, and the
    key stored for the team (decrypted, in memory only), if there is one."""

    def __init__(
        self,
        name: str,
        config: ProviderSettings,
        model: str | None,
        workspace: Path,
        store: Store,
        team_key: str | None = None,
    ) -> None:
        self.name = name
        self.team_key = team_key
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
        """The accounts (keys) of this provider, rotated on rate limits: its variables', then
        the team's key."""
        variables = list(self.config.api_key_env)
        environ: dict[str, str] = dict(os.environ)
        if self.team_key:
            variables.append(TEAM_ACCOUNT)
            environ[TEAM_ACCOUNT] = self.team_key
        return AccountPool(
            self.name,
            variables,
            self.store.provider_accounts,
            base_url=self.config.base_url,
            keyless=keyless,
            environ=environ,
        )

    def executable(self, program: str, setting: str) -> str:
        found = shutil.which(program)
        if found is None:
            raise ProviderUnavailable(
                f"{self.name}: `{program}` was not found on PATH; install it or set "
                f"providers.{self.name}.{setting}"
            )
        return found
