"""Which daemon drives a run, so a restart can tell runs orphaned by a crash.

Each daemon holds an exclusive lock on its own file under ``.devfactory/daemons/`` for its
whole life. The kernel releases the lock when the process dies, even under ``kill -9``, so
"the owner's lock can be taken" means "the owner is gone" — with no PID-reuse ambiguity.
A name carries its machine: on a team's database, a daemon judges only its own machine's
daemons (another machine's recovers its runs itself when it restarts).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import socket
from pathlib import Path

HOST = socket.gethostname()


class DaemonLock:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.name = f"{os.getpid()}-{secrets.token_hex(4)}@{HOST}"
        self._fd = os.open(folder / f"{self.name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.unlink(self.folder / f"{self.name}.lock")
            os.close(self._fd)
            self._fd = -1

    def is_alive(self, owner: str | None) -> bool:
        """Whether the daemon named ``owner`` is still running."""
        if owner is None:
            return False
        if owner == self.name:
            return True
        if "@" in owner and owner.rsplit("@", 1)[1] != HOST:
            return True  # another machine's daemon: not ours to judge
        path = self.folder / f"{owner}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
            return False
        finally:
            os.close(fd)

    @staticmethod
    def pid_of(owner: str) -> str:
        return owner.split("-", 1)[0]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (ours or someone else's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
