"""A hostile agent against the real daemon: every file operation the daemon performs for a run
(the agent's tools, reading proposals, applying them) refuses links out of the workspace,
``.git`` anywhere, ``.devfactory/``, DevFactory's own settings and policy files, names with
control or bidi characters, and paths edited in the database, and nothing lands outside.

The scripted provider plays the agent; what a run's commands could leave in the worktree
(links, huge files) the test plants while the run waits for an answer. Restoring snapshots is
covered by test_e2e_restore_safety.py; the resolver itself by tests/unit/test_path_safety.py.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from devfactory.protocol.changes import Change, ChangeDecisionResult, ChangeList
from devfactory.protocol.enums import ChangeStatus, EventType, RunStatus
from devfactory.protocol.events import Event
from devfactory.protocol.hitl import HitlRespondParams
from devfactory.protocol.methods import Notifications, Requests
from devfactory.protocol.runs import Run
from devfactory.protocol.snapshots import SnapshotList, SnapshotListParams
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    replay,
    shared_daemon,
    turn,
    wait_finished,
    wait_status,
    write_script,
)
from support import DaemonClient, git, initialize_params, make_client, make_git_repo

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- not really\n"
OPTIONS = {**RUN_OPTIONS, "commands": {"policyFile": "tools/policy.toml"}}


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outside")
    (folder / "id_rsa").write_text(SECRET)
    (folder / "changelog.md").write_text("someone else's file\n")
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, outside: Path) -> Path:
    root = make_git_repo(
        tmp_path_factory.mktemp("paths") / "nested" / "project",
        {".gitignore": "ext\n", "app.py": "x = 1\n"},
    )
    os.symlink(outside, root / "ext")  # ignored, so absent from every run's worktree
    return root


daemon = shared_daemon(OPTIONS)


def outside_names(outside: Path) -> list[str]:
    return sorted(p.name for p in outside.iterdir())


async def changes_of(client: DaemonClient, run_id: int) -> dict[str, Change]:
    listed: ChangeList = await client.call(Requests.CHANGES_LIST, {"runId": run_id})
    return {change.path: change for change in listed.changes}


def warnings(events: list[Event], title: str) -> list[str]:
    return [e.message for e in events if e.type is EventType.ERROR and e.title == title]


HOSTILE_CALLS = [
    (call("write_file", path=".devfactory/commands.toml", content="sandbox = false\n"), ".dev"),
    (call("write_file", path="sub/.git/config", content="[core]\n\tfsmonitor = x\n"), ".git"),
    (call("write_file", path="sub/.GIT/HEAD", content="ref: refs/heads/main\n"), ".git"),
    (call("write_file", path="devfactory.toml", content="[commands]\nsandbox = false\n"), "conf"),
    (call("write_file", path="./tools//policy.toml", content="sandbox = false\n"), "conf"),
    (call("write_file", path="invoice\u202etxt.exe", content="x"), "U+202E"),
    (call("write_file", path="two\nlines.py", content="x"), "U+000A"),
    (call("write_file", path="..\\escape.txt", content="x"), "backslash"),
    (call("read_file", path=".devfactory/devfactory.db"), ".dev"),
    (call("delete_file", path="DevFactory.toml"), "conf"),
    (call("list_files", path=".git"), ".git"),
    (call("write_file", path="app.py/inside.txt", content="x"), "app.py is a file, not a folder"),
]


async def test_hostile_paths_are_refused_by_the_tools_even_in_yolo_mode(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    turns = [turn("1. Probe"), *(turn("", tool) for tool, _ in HOSTILE_CALLS)]
    turns += [turn("", call("write_file", path="app.py", content="x = 2\n")), finish()]
    run = await create_run(daemon, write_script(tmp_path, "hostile", turns), mode="yolo")
    await daemon.notes.wait_for(
        Notifications.EVENT,
        lambda n: (
            n.event.run_id == run.id
            and n.event.type is EventType.CHANGE_APPLIED
            and n.event.payload["path"] == "CHANGELOG_AI.md"
        ),
    )
    refused = warnings(await replay(daemon, run.id), "Path refused")
    assert len(refused) == len(HOSTILE_CALLS)
    for message, (_, reason) in zip(refused, HOSTILE_CALLS, strict=True):
        assert reason in message, message
    assert "\n" not in "".join(refused) and "\u202e" not in "".join(refused)
    assert set(await changes_of(daemon, run.id)) == {"app.py", "CHANGELOG_AI.md"}
    assert (workspace / "app.py").read_text() == "x = 2\n"
    assert sorted(p.name for p in workspace.iterdir()) == sorted(
        [".devfactory", ".git", ".gitignore", "CHANGELOG_AI.md", "app.py", "ext"]
    )
    assert not (workspace / ".devfactory" / "commands.toml").exists()


async def answer_when_asked(daemon: DaemonClient, run: Run, plant: Any) -> Run:
    """Wait for the run's question, let ``plant(worktree)`` play a command, then answer."""
    waiting = await wait_status(daemon, run.id, RunStatus.WAITING_FOR_USER)
    plant(Path(waiting.worktree_path or ""))
    note = await daemon.notes.wait_for(Notifications.QUESTION, lambda n: n.request.run_id == run.id)
    await daemon.call(Requests.HITL_RESPOND, HitlRespondParams(request_id=note.request.id))
    return await wait_finished(daemon, run.id)


async def write_while_planting(
    daemon: DaemonClient, tmp_path: Path, plant: Any, written: str = "kept.txt"
) -> tuple[Run, dict[str, Change]]:
    """A run that writes ``written``, lets ``plant`` play a command while it waits for an
    answer, and completes; returns it with its changes."""
    script = [
        turn("1. Write"),
        turn("", call("write_file", path=written, content="written\n")),
        turn("", call("ask_user", question="Carry on?")),
        finish("wrote"),
    ]
    run = await create_run(daemon, write_script(tmp_path, "planted", script))
    done = await answer_when_asked(daemon, run, plant)
    assert done.status is RunStatus.COMPLETED, done.failed_reason
    return done, await changes_of(daemon, run.id)


def plant_nested_repository(folder: Path, config: dict[str, str], marker: Path) -> None:
    """A repository with a commit and a changed file, as a run's command could leave one,
    whose ``config`` runs a program that leaves ``marker``."""
    folder.mkdir(parents=True)
    (folder / "f.txt").write_text("x\n")
    (folder / ".gitattributes").write_text("* filter=leak\n")
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=a", "-c", "user.email=a@b.invalid", "commit", "-qm", "x")
    for key, value in config.items():
        git(folder, "config", key, value.replace("MARKER", str(marker)))
    (folder / "f.txt").write_text("changed\n")


async def test_no_nested_repository_config_or_user_hook_runs_on_a_runs_files(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    """A nested repository's config is whoever wrote it: once it was a gitlink in the index,
    every ``git add`` of the worktree ran its fsmonitor or clean filter as the user, outside
    the sandbox. Nor does the user's commit hook run on the run's files when the daemon
    commits them (the pre-commit framework would run the worktree's own config)."""
    marker = tmp_path / "ran"
    hooks = workspace / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)

    def plant(worktree: Path) -> None:
        fsmonitor = {"core.fsmonitor": "touch MARKER-fsmonitor; false"}
        plant_nested_repository(worktree / "vendor" / "lib", fsmonitor, marker)
        leak = {"filter.leak.clean": "sh -c 'touch MARKER-filter; cat'"}
        plant_nested_repository(worktree / "deep" / "er" / "pkg", leak, marker)

    done, changes = await write_while_planting(daemon, tmp_path, plant)
    assert "kept.txt" in changes
    assert not [path for path in changes if path.startswith(("vendor", "deep"))]
    for hook in ("pre-commit", "post-commit"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {marker}-{hook}\n")
        (hooks / hook).chmod(0o755)
    try:
        await daemon.call(Requests.GIT_COMMIT, {"runId": done.id})
        with pytest.raises(JsonRpcException, match="nothing to commit"):
            await daemon.call(Requests.GIT_COMMIT, {"runId": done.id})
    finally:
        for hook in ("pre-commit", "post-commit"):
            (hooks / hook).unlink()
    worktree = Path(done.worktree_path or "")
    committed = git(worktree, "show", "--name-only", "--format=", "HEAD").split()
    assert "kept.txt" in committed
    assert not [path for path in committed if path.startswith(("vendor", "deep"))]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ran")) == []


async def test_proposals_never_read_through_links_or_whole_huge_files(
    daemon: DaemonClient, workspace: Path, outside: Path, tmp_path: Path
):
    def plant(worktree: Path) -> None:
        (worktree / "notes.txt").unlink()
        os.symlink(outside / "id_rsa", worktree / "notes.txt")  # was a file the run wrote
        (worktree / "CHANGELOG_AI.md").unlink(missing_ok=True)  # an earlier run's entry
        os.symlink(outside / "changelog.md", worktree / "CHANGELOG_AI.md")
        with open(worktree / "big.bin", "wb") as handle:
            handle.truncate(64 * 1024 * 1024)  # sparse: the daemon must not read 64 MiB
        (worktree / "tools").mkdir()
        (worktree / "tools" / "policy.toml").write_text("sandbox = false\n")
        (worktree / "__pycache__").mkdir()
        (worktree / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00junk")
        (worktree / "odd\u202ename.txt").write_text("x")

    run, changes = await write_while_planting(daemon, tmp_path, plant, "notes.txt")
    assert {path: c.status for path, c in changes.items()} == {"notes.txt": ChangeStatus.STALE}
    not_proposed = warnings(await replay(daemon, run.id), "Change not proposed")
    for expected in (
        "notes.txt is a symbolic link",
        "CHANGELOG_AI.md is a symbolic link",
        "big.bin is 64.0 MiB, more than the 8.0 MiB limit",
        "tools/policy.toml configures DevFactory",
        "odd\\u202ename.txt' contains the invisible or control character U+202E",
    ):
        assert any(expected in message for message in not_proposed), (expected, not_proposed)
    assert len(set(not_proposed)) == 5
    diffs = workspace / ".devfactory" / "diffs"
    assert sum(p.stat().st_size for p in diffs.iterdir()) < 1024 * 1024
    assert not [p for p in diffs.iterdir() if SECRET.encode() in p.read_bytes()]
    assert (outside / "changelog.md").read_text() == "someone else's file\n"

    with pytest.raises(JsonRpcException, match=f"run {run.id} has no open changes"):
        await daemon.call(Requests.CHANGES_APPROVE, {"runId": run.id})
    assert not (workspace / "notes.txt").exists()


def tamper(workspace: Path, change_id: int, path: str) -> None:
    """Edit a change's path in the database, as a hostile process with file access could."""
    with sqlite3.connect(workspace / ".devfactory" / "devfactory.db") as db:
        db.execute("UPDATE workspace_files SET path = ? WHERE id = ?", (path, change_id))


async def test_apply_refuses_links_in_the_workspace_and_paths_edited_in_the_database(
    daemon: DaemonClient, workspace: Path, outside: Path, tmp_path: Path
):
    script = [
        turn("1. Plant"),
        turn("", call("write_file", path="ext/planted.txt", content="planted\n")),
        turn("", call("write_file", path="relative.txt", content="planted\n")),
        turn("", call("write_file", path="absolute.txt", content="planted\n")),
        finish(),
    ]
    run = await create_run(daemon, write_script(tmp_path, "plant", script))
    assert (await wait_finished(daemon, run.id)).status is RunStatus.COMPLETED
    changes = await changes_of(daemon, run.id)
    escaped = workspace.parent.parent / "escaped.txt"
    tamper(workspace, changes["relative.txt"].id, "../../escaped.txt")
    tamper(workspace, changes["absolute.txt"].id, str(tmp_path / "absolute.txt"))

    result: ChangeDecisionResult = await daemon.call(
        Requests.CHANGES_APPROVE,
        {"changeIds": [changes[p].id for p in ("ext/planted.txt", "relative.txt", "absolute.txt")]},
    )
    assert result.applied == []
    reasons = {c.path: c.reason or "" for c in result.changes}
    assert "ext is a symbolic link" in reasons["ext/planted.txt"]
    assert "points outside the project" in reasons["../../escaped.txt"]
    assert "is absolute" in reasons[str(tmp_path / "absolute.txt")]
    assert {c.status for c in result.changes} == {ChangeStatus.CONFLICT}
    assert outside_names(outside) == ["changelog.md", "id_rsa"]
    assert not escaped.exists() and not (tmp_path / "absolute.txt").exists()


async def start_second_daemon(workspace: Path) -> DaemonClient:
    client = make_client()
    await client.start_io(sys.executable, "-P", "-m", "devfactory.server", "serve", "--stdio")
    await client.initialize_session(initialize_params(workspace, options=OPTIONS))
    return client


@pytest.mark.parametrize("second", ["same daemon", "another daemon"])
async def test_two_approvals_at_once_apply_the_run_once(
    daemon: DaemonClient, workspace: Path, tmp_path: Path, second: str
):
    name = second.replace(" ", "-")
    script = [
        turn("1. Edit"),
        turn("", call("write_file", path=f"{name}-1.txt", content="one\n")),
        turn("", call("write_file", path=f"{name}-2.txt", content="two\n")),
        finish(),
    ]
    run = await create_run(daemon, write_script(tmp_path, name, script))
    assert (await wait_finished(daemon, run.id)).status is RunStatus.COMPLETED
    other = daemon if second == "same daemon" else await start_second_daemon(workspace)
    try:
        outcomes = await asyncio.gather(
            daemon.call(Requests.CHANGES_APPROVE, {"runId": run.id}),
            other.call(Requests.CHANGES_APPROVE, {"runId": run.id}),
            return_exceptions=True,
        )
    finally:
        if other is not daemon:
            await other.shutdown_session()
            await other.stop()
    results = [o for o in outcomes if isinstance(o, ChangeDecisionResult)]
    errors = [str(o) for o in outcomes if isinstance(o, BaseException)]
    assert len(results) == 1 and len(errors) == 1, outcomes
    assert f"run {run.id} has no open changes: all 3 are decided" in errors[0]
    assert sorted(results[0].applied) == sorted(c.id for c in results[0].changes)
    final = await changes_of(daemon, run.id)
    assert {c.status for c in final.values()} == {ChangeStatus.APPLIED}
    snapshots: SnapshotList = await daemon.call(
        Requests.SNAPSHOTS_LIST, SnapshotListParams(run_id=run.id)
    )
    assert [s.type.value for s in snapshots.snapshots].count("pre_apply") == 1
    assert (workspace / f"{name}-2.txt").read_text() == "two\n"


async def test_a_nested_repository_a_command_made_never_breaks_the_run_or_snapshots(
    daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    def plant(worktree: Path) -> None:  # what `git init` in a command leaves
        for nested in ("sub", "deep/er"):
            (worktree / nested).mkdir(parents=True)
            (worktree / nested / "f.txt").write_text("x\n")
            git_init = ["git", "init", "-q", str(worktree / nested)]
            assert os.spawnvp(os.P_WAIT, "git", git_init) == 0

    _, changes = await write_while_planting(daemon, tmp_path, plant)
    assert "kept.txt" in changes
    assert not [path for path in changes if path.startswith(("sub", "deep"))]
