"""The OS sandbox: the exact bubblewrap command line, and what happens when bubblewrap is
missing or cannot create a sandbox (a reason in health, one warning per run, commands still
governed by the policy)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from command_support import Harness, close_harness, open_harness
from devfactory.protocol.commands import PolicyEntry
from devfactory.protocol.enums import EventType
from devfactory.protocol.events import ErrorPayload, decode_payload
from devfactory.protocol.project import SandboxInfo
from devfactory.protocol.settings import CommandSettings
from devfactory.server.execution.sandbox import TMPFS_BYTES, Sandbox
from devfactory.server.paths import StatePaths


@pytest_asyncio.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_harness(tmp_path, {"README.md": "# sample\n"})
    yield h
    await close_harness(h)


async def test_without_bwrap_the_sandbox_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    info = await Sandbox(state_dir=tmp_path).info()
    assert info == SandboxInfo(
        active=False, reason="bwrap not found: install bubblewrap (apt-get install bubblewrap)"
    )


async def test_a_broken_bwrap_is_reported_and_each_run_warned_once(harness: Harness) -> None:
    fake = harness.outside / "bwrap"
    fake.write_text("#!/bin/sh\necho 'No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    sandbox = Sandbox(state_dir=StatePaths(harness.root).state, executable=str(fake))
    reason = "bwrap cannot create a sandbox: No permissions to creating new namespace"
    assert await sandbox.info() == SandboxInfo(active=False, tool=str(fake), reason=reason)

    service = harness.service(CommandSettings(), sandbox=sandbox)
    assert await service.sandbox_info() == await sandbox.info()
    for command in ("git status", "ls"):
        outcome = await service.execute(harness.run, command)
        assert outcome.ok and not outcome.execution.sandboxed, outcome.tool_result
        assert "without the OS sandbox" in outcome.tool_result
    [warning] = [e for e in harness.events if e.type is EventType.ERROR]
    assert decode_payload(warning) == ErrorPayload(
        message=reason,
        detail="The command policy and blocklist still apply; network and filesystem are not"
        " isolated. Install bubblewrap to isolate commands.",
    )
    refused = await service.execute(harness.run, "cat /etc/passwd")
    assert refused.rule == "outside_worktree"


@pytest.mark.parametrize("network", [False, True])
async def test_the_bubblewrap_command_line(harness: Harness, network: bool) -> None:
    home = harness.outside / "home"
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


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
async def test_the_worktrees_git_link_stays_read_only(harness: Harness) -> None:
    service = harness.service(
        CommandSettings(allow=[PolicyEntry(program="python3", args=["-c *"])])
    )
    outcome = await service.execute(
        harness.run, "python3 -c \"open('.git', 'w').write('gitdir: /tmp/evil')\""
    )
    assert outcome.execution.sandboxed
    assert outcome.execution.exit_code != 0
    assert "Read-only file system" in outcome.tool_result
    assert (harness.worktree / ".git").read_text().startswith("gitdir: ")
    assert "evil" not in (harness.worktree / ".git").read_text()
