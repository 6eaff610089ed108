"""kill -9 of the daemon leaves nothing behind once the next daemon has started.

A command cut off by the crash has its row closed with a reason and an event, and the
processes it left running are ended; its pids cgroup is removed; the index's worker processes
die with the daemon instead of lingering for minutes.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from command_support import alive, processes_with
from devfactory.protocol.commands import CommandList, CommandListParams
from devfactory.protocol.enums import EventType, RunStatus
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunIdParams
from devfactory.server.execution.cgroups import PidsController
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    holding_test,
    kill_9,
    kinds,
    replay,
    start_daemon,
    stop_daemon,
    turn,
    until,
    wait_event,
    write_script,
)
from support import make_git_repo

MODULE = '''\
"""Module {n}."""


def function_{n}(value):
    """Return the value plus {n}."""
    return value + {n}


class Thing{n}:
    def method(self, other):
        return function_{n}(other) * 2
'''
INDEX_OPTIONS: dict[str, object] = {"index": {"enabled": True, "watch": False, "embedder": "none"}}


def stale_cgroups(daemon_pid: int) -> list[str]:
    controller = PidsController.detect()
    if controller is None:
        return []
    return [p.name for p in controller.base.iterdir() if p.name.startswith(f"{daemon_pid}-")]


async def test_a_command_cut_off_by_kill_9_is_closed_and_its_processes_ended(tmp_path: Path):
    marker = f"devfactory_orphan_{secrets.token_hex(6)}"
    files, command = holding_test(marker)
    workspace = make_git_repo(tmp_path / "project", files)
    script = write_script(
        tmp_path,
        "hold",
        [turn("1. Test"), turn("", call("run_command", command=command)), finish()],
    )
    first = await start_daemon(workspace, RUN_OPTIONS)
    try:
        run = await create_run(first, script)
        await wait_event(first, run.id, EventType.COMMAND_STARTED)
        await until(lambda: len(processes_with(marker)) >= 2)  # pytest and its child
    finally:
        pid = await kill_9(first)

    second = await start_daemon(workspace, RUN_OPTIONS)
    try:
        await until(lambda: processes_with(marker) == [], timeout=10)
        listed: CommandList = await second.call(
            Requests.COMMANDS_LIST, CommandListParams(run_id=run.id)
        )
        [execution] = listed.executions
        assert execution.finished_at is not None, "the row is closed"
        assert execution.output_tail.startswith(
            f"the DevFactory daemon (pid {pid}) stopped while the command ran"
        )
        failed: Run = await second.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
        assert failed.status is RunStatus.FAILED
        events = await replay(second, run.id)
        assert kinds(events)[-2:] == ["command_failed", "status:failed"]
        await until(lambda: stale_cgroups(pid) == [], timeout=10)
    finally:
        await stop_daemon(second)


def index_workers(daemon_pid: int) -> list[int]:
    """The daemon's multiprocessing children (pool workers, resource tracker)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == daemon_pid and b"multiprocessing" in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


async def test_index_workers_die_with_the_daemon(tmp_path: Path):
    files = {f"pkg/module_{n}.py": MODULE.format(n=n) for n in range(1500)}
    workspace = make_git_repo(tmp_path / "project", files)
    daemon = await start_daemon(workspace, INDEX_OPTIONS)
    assert daemon._server is not None
    daemon_pid = daemon._server.pid
    try:
        await until(lambda: len(index_workers(daemon_pid)) >= 2, timeout=60)
        workers = index_workers(daemon_pid)
    finally:
        await kill_9(daemon)
    await until(lambda: not any(alive(pid) for pid in workers), timeout=10)
