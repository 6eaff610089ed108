"""Chaos: ``kill -9`` of the daemon at random moments of a run, a command, an approve of many
files, a restore and indexing. After each restart:

- the database passes ``PRAGMA integrity_check``;
- no file is half written: each file the approve or the restore writes holds its old or its
  new content, and no temp file of an atomic write is left next to it;
- no run is left running and no command row open;
- each run's events are contiguous: its status changes chain from its creation to the status
  it has, and the event ids have no gap;
- no process is left behind: everything the killed daemon had started (commands and their
  children, index workers) is gone, and nothing else runs in the workspace.

The moments are random (seeded; the seed is printed, ``CHAOS_SEED`` replays one) but every
moment must pass, so the test does not flake: it only finds more or fewer places to look.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from devfactory.protocol.changes import ChangeDecisionParams
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.index import IndexRebuildParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import RunListParams
from devfactory.protocol.snapshots import Snapshot, SnapshotCreateParams, SnapshotRestoreParams
from devfactory.storage.sqlite import Database
from runs_support import (
    call,
    create_run,
    finish,
    holding_test,
    kill_9,
    start_daemon,
    stop_daemon,
    turn,
    until,
    wait_event,
    wait_finished,
    write_script,
)
from support import DaemonClient, make_git_repo

FILES = 24
"""Files the approve and the restore write."""
MODULES = 240
"""Enough source files for indexing to use its worker processes."""
OPTIONS: dict[str, object] = {
    "defaultProvider": "scripted",
    "maxConcurrentRuns": 4,
    "index": {"enabled": True, "watch": False, "embedder": "none"},
}
TEMP_FILE = re.compile(r"\.devfactory$|^\..*\.[A-Za-z0-9_]{8}$")
ACTIVE = {RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.WAITING_FOR_USER}


def original(n: int) -> str:
    return f"VALUE = {n}\n"


def proposed(n: int) -> str:
    return f"VALUE = {n * 1000}  # changed by the agent\n" + "# padding\n" * 200


# -- what the workspace and the processes look like -----------------------------------------------


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, working directory) of every process."""
    table = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cwd = os.readlink(proc / "cwd")
        except (OSError, IndexError):
            continue
        table[int(proc.name)] = (int(fields[1]), fields[0], cwd)
    return table


def descendants(pid: int) -> set[int]:
    table = process_table()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _, _) in table.items() if parent in frontier}
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    table = process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def strays(workspace: Path, keep: set[int]) -> set[int]:
    """Live processes working inside the workspace, other than those in ``keep``."""
    inside = str(workspace)
    return {
        pid
        for pid, (_, state, cwd) in process_table().items()
        if state != "Z" and cwd.startswith(inside) and pid not in keep
    }


async def assert_sound(workspace: Path, daemon: DaemonClient, orphans: set[int], seed: int) -> None:
    where = f"(seed {seed})"
    # The runs feature recovers a dead daemon's runs as it starts, in the background after
    # initialize; a request that needs it waits for that, as an editor's first one would.
    await daemon.call(Requests.RUNS_LIST, RunListParams())
    db = await Database.open(workspace / ".devfactory" / "devfactory.db")
    try:
        assert await db.scalar("PRAGMA integrity_check") == "ok", where
        runs = await db.fetchall("SELECT id, status FROM agent_runs ORDER BY id")
        left_open = await db.fetchall(
            "SELECT id, command FROM command_executions WHERE finished_at IS NULL"
        )
        span = await db.fetchone("SELECT count(*), min(id), max(id) FROM agent_events")
        chains = {
            run_id: [
                (row["from_status"], row["to_status"])
                for row in await db.fetchall(
                    "SELECT json_extract(payload, '$.fromStatus') AS from_status,"
                    " json_extract(payload, '$.toStatus') AS to_status FROM agent_events"
                    " WHERE run_id = ? AND type = ? ORDER BY id",
                    (run_id, EventType.RUN_STATUS_CHANGED.value),
                )
            ]
            for run_id, _ in runs
        }
    finally:
        await db.close()
    assert [r for r in runs if RunStatus(r["status"]) in ACTIVE] == [], f"runs left open {where}"
    assert [tuple(r) for r in left_open] == [], f"command rows left open {where}"
    assert span[0] == span[2] - span[1] + 1, f"event ids have gaps {where}"
    for run_id, status in runs:
        chain = chains[run_id]
        assert chain and chain[0][0] is None, f"run {run_id} has no first status event {where}"
        for (_, to), (after, _) in itertools.pairwise(chain):
            assert after == to, f"run {run_id}'s status events skip a change {where}: {chain}"
        assert chain[-1][1] == status, f"run {run_id} is {status}; its events say otherwise"

    for n in range(FILES):
        text = (workspace / "app" / f"f_{n}.py").read_text()
        assert text in (original(n), proposed(n)), f"app/f_{n}.py is half written {where}"

    def temp_files() -> list[str]:
        return sorted(p.name for p in (workspace / "app").iterdir() if TEMP_FILE.search(p.name))

    # The restarted daemon removes a dead writer's temp files in the background after start-up.
    with contextlib.suppress(TimeoutError):
        await until(lambda: not temp_files(), timeout=20)
    assert temp_files() == [], f"temp files left next to the user's files {where}"

    await until(lambda: alive(orphans) == set(), timeout=10)
    assert daemon._server is not None
    live = descendants(daemon._server.pid) | {daemon._server.pid}
    await until(lambda: strays(workspace, live) == set(), timeout=10)


# -- the moments to kill at ---------------------------------------------------------------------


@dataclass
class Stage:
    """What the moments need: the daemon of the moment, the scripts, the snapshot to restore."""

    daemon: DaemonClient
    scripts: dict[str, Path]
    snapshot_id: int = 0
    unanswered: list[asyncio.Future[object]] = field(default_factory=list)
    """Requests the daemon died before answering."""

    def send(self, method: str, params: msgspec.Struct) -> None:
        """A request whose answer the test does not wait for (the daemon dies before it)."""
        request = self.daemon.protocol.send_request_async(method, msgspec.to_builtins(params))
        self.unanswered.append(asyncio.ensure_future(request))


async def during_a_run(stage: Stage) -> None:
    run = await create_run(stage.daemon, stage.scripts["busy"], max_steps=500)
    await wait_event(stage.daemon, run.id, EventType.FILE_READ)


async def during_a_command(stage: Stage) -> None:
    run = await create_run(stage.daemon, stage.scripts["hold"])
    await wait_event(stage.daemon, run.id, EventType.COMMAND_STARTED)


async def during_an_approve(stage: Stage) -> None:
    run = await create_run(stage.daemon, stage.scripts["many"])
    done = await wait_finished(stage.daemon, run.id)
    assert done.status is RunStatus.COMPLETED, done.failed_reason
    stage.send(Requests.CHANGES_APPROVE, ChangeDecisionParams(run_id=run.id))


async def during_a_restore(stage: Stage) -> None:
    stage.send(Requests.SNAPSHOTS_RESTORE, SnapshotRestoreParams(snapshot_id=stage.snapshot_id))


async def during_indexing(stage: Stage) -> None:
    stage.send(Requests.INDEX_REBUILD, IndexRebuildParams(full=True))


MOMENTS: list[tuple[Callable[[Stage], Awaitable[None]], float]] = [
    (during_a_run, 0.5),
    (during_a_command, 0.5),
    (during_an_approve, 0.4),
    (during_a_restore, 0.4),
    (during_indexing, 1.5),
]
"""What to start, and up to how many seconds to let it go on before the kill."""


async def test_kill_9_at_random_moments_leaves_a_sound_workspace(tmp_path: Path):
    seed = int(os.environ.get("CHAOS_SEED") or random.randrange(1 << 30))
    print(f"chaos seed {seed} (CHAOS_SEED={seed} replays it)")
    rng = random.Random(seed)
    marker = f"devfactory_chaos_{secrets.token_hex(6)}"
    files = {f"app/f_{n}.py": original(n) for n in range(FILES)}
    files |= {
        f"pkg/module_{n}.py": f"def function_{n}(x):\n    return x + {n}\n" for n in range(MODULES)
    }
    holding, command = holding_test(marker)
    files |= holding
    workspace = make_git_repo(tmp_path / "project", files)
    writes = [call("write_file", path=f"app/f_{n}.py", content=proposed(n)) for n in range(FILES)]
    folder = tmp_path / "scripts"
    scripts = {
        "busy": write_script(
            folder,
            "busy",
            [turn("1. Read"), *[turn("", call("read_file", path="app/f_0.py"))] * 300],
        ),
        "hold": write_script(
            folder, "hold", [turn("1. Test"), turn("", call("run_command", command=command))]
        ),
        "many": write_script(
            folder, "many", [turn("1. Change them all"), turn("", *writes), finish()]
        ),
    }

    stage = Stage(await start_daemon(workspace, OPTIONS), scripts)
    try:
        snapshot: Snapshot = await stage.daemon.call(
            Requests.SNAPSHOTS_CREATE, SnapshotCreateParams(description="before the chaos")
        )
        stage.snapshot_id = snapshot.id
        for moment, longest in MOMENTS:
            await moment(stage)
            await asyncio.sleep(rng.uniform(0, longest))
            assert stage.daemon._server is not None
            orphans = descendants(stage.daemon._server.pid)
            print(f"kill -9 {moment.__name__} with {len(orphans)} child processes")
            await kill_9(stage.daemon)
            stage.daemon = await start_daemon(workspace, OPTIONS)
            await assert_sound(workspace, stage.daemon, orphans, seed)
    finally:
        await stop_daemon(stage.daemon)
