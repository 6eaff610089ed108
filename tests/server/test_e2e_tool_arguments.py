"""Odd tool arguments from the model are tool errors it can correct, and the run goes on.

Arguments are checked against the tool's JSON Schema (the one the model was given) before the
tool runs; what the file system refuses (a name too long, a file used as a folder) comes back
to the model the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.enums import EventType, RunStatus
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
from support import DaemonClient, make_git_repo

pytestmark = pytest.mark.asyncio(loop_scope="module")

LONG_NAME = "n" * 300

ODD_CALLS = [
    (call("read_file", path=123), "error: bad arguments for read_file: path must be string"),
    (call("search_code", query=None), "error: bad arguments for search_code: query must be string"),
    (call("run_command", command="true", timeout_s="soon"), "timeout_s must be number"),
    (
        call("read_file", path="calc.py", start_line=0),
        "start_line must be bigger than or equal to 1",
    ),
    (call("write_file", path="calc.py"), "the arguments must contain ['content'] properties"),
    (call("list_files", recursive=True), "the arguments must not contain {'recursive'}"),
    (call("write_file", path=LONG_NAME, content="x"), "write_file failed on 'nnnn"),
    (call("read_file", path=f"{LONG_NAME}/x.py"), "File name too long"),
    (call("write_file", path="calc.py/x", content="x"), "calc.py is a file, not a folder"),
    (call("delete_file", path="calc.py/x"), "calc.py is a file, not a folder"),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_git_repo(tmp_path_factory.mktemp("args") / "project", {"calc.py": "x = 1\n"})


daemon = shared_daemon(RUN_OPTIONS)


async def test_odd_tool_arguments_are_errors_the_model_reads_and_the_run_goes_on(
    daemon: DaemonClient, tmp_path: Path
):
    calls = [odd for odd, _ in ODD_CALLS]
    turns = [turn("1. Probe"), turn("", calls[0])]
    turns += [turn("", odd, quote_last=True) for odd in calls[1:]]
    turns += [turn("", call("write_file", path="ok.py", content="y = 2\n"), quote_last=True)]
    turns += [finish()]
    run = await create_run(daemon, write_script(tmp_path, "odd", turns))

    done = await wait_finished(daemon, run.id)

    assert done.status is RunStatus.COMPLETED, done.failed_reason
    said = [e.message for e in await replay(daemon, run.id) if e.type is EventType.AI_MESSAGE]
    assert len(said) == len(ODD_CALLS)
    for message, (odd, expected) in zip(said, ODD_CALLS, strict=True):
        assert message.startswith("> error: "), (odd, message)
        assert expected in message, (odd, message)
    assert (Path(done.worktree_path or "") / "ok.py").read_text() == "y = 2\n"
