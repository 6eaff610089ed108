"""Provider keys stored for the team, encrypted at rest (``devfactory team set-key``).

The database holds only Fernet ciphertext (AES-128-CBC + HMAC-SHA256); the key that opens it
lives in a file readable by its owner alone (0600), on each machine that starts providers
(the gateway's, the workers'): ``DEVFACTORY_TEAM_KEY_FILE``, else
``$XDG_CONFIG_HOME/devfactory/team.key``. A key file others may read is refused rather than
used, and so is a stored key the file cannot open (another team's file), each saying so.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from devfactory.storage import Store

from ..paths import KEY_FILE_VARIABLE, team_key_file


class TeamKeyError(RuntimeError):
    """The team key file or a stored key cannot be used; the message says what to do."""


def load_fernet(path: Path, *, create: bool) -> Fernet:
    """The cipher of the key file at ``path`` (made, 0600, when ``create`` and absent)."""
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it meanwhile: use theirs
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
    try:
        info = path.stat()
    except FileNotFoundError:
        raise TeamKeyError(
            f"the team key file {path} does not exist: copy it from the machine that ran "
            f"`devfactory team set-key` (mode 0600), or set {KEY_FILE_VARIABLE}"
        ) from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise TeamKeyError(f"the team key file {path} may be read by others: chmod 600 {path}")
    try:
        return Fernet(path.read_bytes().strip())
    except ValueError:
        raise TeamKeyError(f"the team key file {path} does not hold a Fernet key") from None


class TeamKeys:
    """Encrypts provider keys into the store and decrypts them for a provider's start."""

    def __init__(self, store: Store, key_file: Path | None = None) -> None:
        self.store = store
        self.key_file = key_file or team_key_file()

    async def set(self, provider: str, secret: str) -> None:
        if not secret.strip():
            raise TeamKeyError(f"the key for {provider} is empty")
        fernet = load_fernet(self.key_file, create=True)
        await self.store.team_keys.put(provider, fernet.encrypt(secret.strip().encode()))

    async def get(self, provider: str) -> str | None:
        """The provider's team key in clear, or None when the team stored none."""
        stored = await self.store.team_keys.get(provider)
        if stored is None:
            return None
        fernet = load_fernet(self.key_file, create=False)
        try:
            return fernet.decrypt(stored.ciphertext).decode()
        except InvalidToken:
            raise TeamKeyError(
                f"the team key of {provider} was not encrypted with {self.key_file}: "
                "use the key file of the machine that stored it, or set the key again"
            ) from None
