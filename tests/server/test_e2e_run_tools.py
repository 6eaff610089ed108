"""The agent's file tools over the real daemon: every path stays inside the run's worktree.

``..``, absolute paths, symlinks that point out and ``.git`` are refused, reported as an event
and explained to the model; nothing outside is read or written. Symlinks that stay inside work.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.enums import EventType, RunStatus, Severity
from devfactory.protocol.events import ErrorPayload, decode_payload
from runs_support import (
    RUN_OPTIONS,
    call,
    create_run,
    finish,
    replay,
    shared_daemon,
    turn,
    wait_finished,
    write_script,
)
from support import DaemonClient, git, make_git_repo

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "top secret\n"


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outside")
    (folder / "secret.txt").write_text(SECRET)
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, outside: Path) -> Path:
    root = make_git_repo(tmp_path_factory.mktemp("tools") / "project", {"calc.py": "x = 1\n"})
    os.symlink(outside, root / "escape")  # a folder link pointing out
    os.symlink(outside / "secret.txt", root / "secret_link")  # a file link pointing out
    os.symlink("calc.py", root / "alias.py")  # stays inside
    git(root, "add", "-A")
    git(root, "commit", "-qm", "links")
    return root


daemon = shared_daemon(RUN_OPTIONS)

ESCAPES = [
    (call("read_file", path="../outside/secret.txt"), "points outside the project"),
    (call("read_file", path=str(Path("/etc/hostname"))), "is absolute"),
    (call("read_file", path="escape/secret.txt"), "points outside the project"),
    (call("write_file", path="escape/planted.txt", content="x"), "points outside the project"),
    (call("edit_file", path="secret_link", search="top", replace="no"), "points outside"),
    (call("delete_file", path="secret_link"), "points outside the project"),
    (call("list_files", path=".."), "points outside the project"),
    (call("write_file", path=".git/hooks/post-checkout", content="x"), "is inside .git"),
    (call("read_file", path="calc.py/../../../.."), "points outside the project"),
]


async def test_paths_that_escape_the_worktree_are_refused_and_reported(
    daemon: DaemonClient, workspace: Path, outside: Path, tmp_path: Path
):
    turns = [turn("1. Probe")]
    turns += [turn("", tool) for tool, _ in ESCAPES]
    turns += [
        turn("The model reads:", quote_last=True),
        turn("", call("edit_file", path="alias.py", search="x = 1", replace="x = 2")),
        finish(),
    ]
    run = await create_run(daemon, write_script(tmp_path, "escape", turns))
    done = await wait_finished(daemon, run.id)
    assert done.status is RunStatus.COMPLETED, done.failed_reason

    events = await replay(daemon, run.id)
    refused = [e for e in events if e.type is EventType.ERROR]
    assert [e.title for e in refused] == ["Path refused"] * len(ESCAPES)
    assert {e.severity for e in refused} == {Severity.WARNING}
    for event, (_, reason) in zip(refused, ESCAPES, strict=True):
        payload = decode_payload(event)
        assert isinstance(payload, ErrorPayload)
        assert reason in payload.message, payload.message
    said = next(e.message for e in events if e.type is EventType.AI_MESSAGE)
    assert said == (
        "The model reads:\n> error: refused: calc.py/../../../.. points outside the project"
        " ('..' is not allowed; name files from the root)"
    )

    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SECRET
    worktree = Path(done.worktree_path or "")
    assert (worktree / "calc.py").read_text() == "x = 2\n", "a link inside the worktree works"
    assert (worktree / "secret_link").is_symlink()
    assert not (workspace / ".git/hooks/post-checkout").exists()


async def test_a_tool_call_that_fails_is_a_warning_on_the_timeline(
    daemon: DaemonClient, tmp_path: Path
):
    """A failed edit was only the model's answer: the run completed and the user never saw
    that nothing changed. Refusals stay reported once, as refusals (above)."""
    turns = [
        turn("1. Edit"),
        turn("", call("read_file", path="nope.py")),
        turn("", call("edit_file", path="calc.py", search="absent", replace="y")),
        finish(),
    ]
    run = await create_run(daemon, write_script(tmp_path, "failing", turns))
    done = await wait_finished(daemon, run.id)
    assert done.status is RunStatus.COMPLETED, done.failed_reason
    failed = [e for e in await replay(daemon, run.id) if e.type is EventType.ERROR]
    assert [e.title for e in failed] == ["Tool failed", "Tool failed"]
    assert {e.severity for e in failed} == {Severity.WARNING}
    assert failed[0].message == "read_file: nope.py does not exist"
    assert failed[1].message.startswith("edit_file: ")
