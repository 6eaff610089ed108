"""One writer of the user's files at a time: approving, rejecting and restoring.

Within a daemon an asyncio lock orders them; across daemons serving the same workspace (an
editor's and a CLI's) an advisory ``flock`` on ``.devfactory/workspace.lock`` does, as
``runs/ownership.py`` does for runs. Whoever comes second re-reads the state the first left:
two approvals of one run apply its changes once, and the second finds them decided.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

POLL_S = 0.05
"""How often a daemon waiting for another one's lock tries again (no thread blocks in flock,
so a cancelled wait leaves nothing behind)."""


class WorkspaceLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        async with self._local:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        await asyncio.sleep(POLL_S)
                yield
            finally:
                os.close(fd)  # releases the flock
