"""Where the daemon keeps its state: ``<workspace>/.devfactory/``, and the user's own files
(team token and key) under ``$XDG_CONFIG_HOME/devfactory/``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STATE_DIR_NAME = ".devfactory"
KEY_FILE_VARIABLE = "DEVFACTORY_TEAM_KEY_FILE"


def user_config_dir() -> Path:
    """The user's DevFactory folder: the default home of the team token and the team key."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "devfactory"


def team_key_file() -> Path:
    """The Fernet key that opens the team's stored provider keys."""
    if explicit := os.environ.get(KEY_FILE_VARIABLE):
        return Path(explicit)
    return user_config_dir() / "team.key"


def team_token_file(setting: str | None) -> Path:
    """The gateway API token's file: the ``team.token_file`` setting, else the default."""
    return Path(setting).expanduser() if setting else user_config_dir() / "token"


@dataclass(frozen=True)
class StatePaths:
    """Every path under a workspace's state folder."""

    root: Path
    """The workspace root."""

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR_NAME

    @property
    def database(self) -> Path:
        return self.state / "devfactory.db"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "daemon.log"

    @property
    def worktrees(self) -> Path:
        return self.state / "worktrees"

    @property
    def diffs(self) -> Path:
        return self.state / "diffs"

    @property
    def command_output(self) -> Path:
        return self.state / "commands"

    @property
    def workspace_lock(self) -> Path:
        """Held by whoever writes the user's files (approve, reject, restore)."""
        return self.state / "workspace.lock"

    @property
    def private_git_dir(self) -> Path:
        """A repository of our own, for workspaces that are not git repositories."""
        return self.state / "repo.git"

    def ensure(self) -> None:
        for folder in (self.state, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        gitignore = self.state / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("# DevFactory state; never commit it.\n*\n")
