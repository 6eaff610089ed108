"""The OS sandbox: bubblewrap with no network and a read-only filesystem except the worktree.

Inside, ``/`` is mounted read-only, ``/tmp`` is a private tmpfs, the daemon's state folder
(database, logs, other runs' worktrees) and credential folders of the home directory (``.ssh``,
``.aws``, ...) are hidden, and only the run's worktree is writable — except its ``.git``, which
stays read-only so a command cannot plant hooks or repoint git for the daemon's later calls.
The network namespace is private unless the policy entry asks for ``network``. The child gets
its own pid namespace and dies with the daemon; as root, every capability is dropped so a
command cannot remount its way out.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from devfactory.protocol.project import SandboxInfo

#: Credential stores under the home directory that commands never see.
HIDDEN_HOME_ENTRIES = (
    ".ssh",
    ".aws",
    ".azure",
    ".gnupg",
    ".kube",
    ".docker",
    ".password-store",
    ".config/gcloud",
    ".config/gh",
    ".config/hub",
    ".local/share/keyrings",
    ".terraform.d",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".vault-token",
)
TMPFS_BYTES = 1 << 30
PROBE_TIMEOUT_S = 10.0


def git_dirs(worktree: str) -> list[str]:
    """The git directories a linked worktree needs (its gitdir and the common dir)."""
    dot_git = Path(worktree, ".git")
    if not dot_git.is_file():
        return []
    match = re.match(r"gitdir:\s*(.+)", dot_git.read_text("utf-8", "replace").strip())
    if not match:
        return []
    gitdir = Path(worktree, match.group(1)).resolve()
    found = [str(gitdir)]
    commondir = gitdir / "commondir"
    if commondir.is_file():
        found.insert(0, str((gitdir / commondir.read_text().strip()).resolve()))
    return [d for d in found if os.path.isdir(d)]


class Sandbox:
    """bubblewrap on this machine: probed once, then used to wrap each command's argv."""

    def __init__(
        self, *, state_dir: Path, executable: str | None = None, home: str | None = None
    ) -> None:
        self.state_dir = str(state_dir.resolve())
        self.executable = executable if executable is not None else shutil.which("bwrap")
        """bubblewrap; found on PATH unless given."""
        self.home = home if home is not None else os.path.expanduser("~")
        """Whose credential folders are hidden."""
        self._probe: asyncio.Task[SandboxInfo] | None = None

    async def info(self) -> SandboxInfo:
        """Whether the sandbox works here (the result of one real bwrap run, cached)."""
        if self._probe is None:
            self._probe = asyncio.get_running_loop().create_task(self._run_probe())
        return await asyncio.shield(self._probe)

    async def _run_probe(self) -> SandboxInfo:
        if platform.system() != "Linux":
            return SandboxInfo(active=False, reason="the OS sandbox needs Linux (bubblewrap)")
        if self.executable is None:
            return SandboxInfo(
                active=False,
                reason="bwrap not found: install bubblewrap (apt-get install bubblewrap)",
            )
        with tempfile.TemporaryDirectory(prefix="devfactory-probe-") as scratch:
            argv = self.wrap(["true"], worktree=os.path.realpath(scratch), network=False)
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
                _, stderr = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                return SandboxInfo(
                    active=False, tool=self.executable, reason=f"bwrap failed: {exc}"
                )
        if process.returncode != 0:
            detail = stderr.decode("utf-8", "replace").strip() or f"exit {process.returncode}"
            return SandboxInfo(
                active=False,
                tool=self.executable,
                reason=f"bwrap cannot create a sandbox: {detail}",
            )
        return SandboxInfo(active=True, tool=self.executable)

    def wrap(self, argv: Sequence[str], *, worktree: str, network: bool) -> list[str]:
        """``argv`` run inside the sandbox, with ``worktree`` (a real path) writable."""
        assert self.executable is not None
        flags = [
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            *([] if network else ["--unshare-net"]),
            *(["--cap-drop", "ALL"] if os.geteuid() == 0 else []),
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc",
            "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",
        ]  # fmt: skip
        if os.path.isdir(self.state_dir):
            flags += ["--tmpfs", self.state_dir]
        for entry in HIDDEN_HOME_ENTRIES:
            path = os.path.join(self.home, entry)
            if os.path.isdir(path):
                flags += ["--tmpfs", path]
            elif os.path.lexists(path):
                flags += ["--ro-bind", "/dev/null", path]
        for gitdir in git_dirs(worktree):
            flags += ["--ro-bind", gitdir, gitdir]
        flags += ["--bind", worktree, worktree]
        dot_git = os.path.join(worktree, ".git")
        if os.path.lexists(dot_git):
            flags += ["--ro-bind", dot_git, dot_git]
        return [self.executable, *flags, "--chdir", worktree, "--", *argv]
