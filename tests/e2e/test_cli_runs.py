"""The ``devfactory`` command line as a user runs it: real subprocesses, real daemons, real git.

``devfactory run`` streams a scripted run and lists its proposed changes; ``approve`` and
``reject`` decide them; ``runs`` and ``events`` read the history (``events --follow`` follows a
run another daemon drives); answers come from the prompt, or from ``--yes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from cli_support import CALC, DEVFACTORY, calc_workspace, cli_env, devfactory
from command_support import processes_with
from devfactory.protocol.client import DaemonClient as ProtocolClient
from devfactory.protocol.enums import ChangeStatus, RunStatus, SnapshotOrigin, SnapshotType
from devfactory.protocol.events import Event
from devfactory.protocol.methods import Requests
from devfactory.protocol.runs import Run, RunCreateParams, RunIdParams
from devfactory.protocol.snapshots import Snapshot
from runs_support import RUN_OPTIONS, call, finish, turn, write_script
from support import SERVER_COMMAND, git, write_files

FIX = call("edit_file", path="calc.py", search="a - b", replace="a + b")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return calc_workspace(tmp_path / "project")


def json_events(output: str) -> list[Event]:
    return [msgspec.json.decode(line, type=Event) for line in output.splitlines() if line]


def test_run_streams_the_timeline_answers_at_the_prompt_and_lists_the_changes(
    workspace: Path, tmp_path: Path
):
    question = call("ask_user", question="Keep the name add?", choices=["yes", "no"])
    script = write_script(
        tmp_path,
        "fix",
        [
            turn("1. Fix add"),
            turn("Fixing.", FIX),
            turn("", question),
            turn("Ok", quote_last=True),
            finish("add() adds"),
        ],
    )
    done = devfactory("run", "Fix add", "--model", str(script), "-w", str(workspace), input="2\n")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for expected in (
        "Run 1: Fix add  (scripted)",
        "Run running",
        "1. Fix add",  # the plan, streamed
        "Plan",
        "Updated calc.py",
        "? Keep the name add?",
        "  2. no",
        "Answer received  no",
        "> no",  # the next model turn read the answer
        "Summary  add() adds",
        "Run completed",
        "Proposed changes of run 1",
        f"devfactory approve 1 -w {workspace}",
        "Run 1 completed",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert out.index("Plan") < out.index("Updated calc.py") < out.index("Run completed")
    assert (workspace / "calc.py").read_text() == CALC, "nothing applied before approval"

    listed = devfactory("runs", "--json", "-w", str(workspace))
    runs = msgspec.json.decode(listed.stdout, type=list[Run])
    assert [(r.id, r.status) for r in runs] == [(1, RunStatus.COMPLETED)]

    events = devfactory("events", "1", "--json", "-w", str(workspace))
    replayed = json_events(events.stdout)
    assert [e.id for e in replayed] == sorted(e.id for e in replayed)
    assert replayed[-1].type.value in ("run_status_changed", "docs_updated", "change_proposed")

    approved = devfactory("approve", "1", "-w", str(workspace))
    assert approved.returncode == 0, approved.stderr
    assert "applied to" in approved.stdout
    assert (workspace / "calc.py").read_text() == CALC.replace("a - b", "a + b")
    assert "calc.py" in git(workspace, "status", "--porcelain")


def test_reject_leaves_the_files_and_yes_answers_with_the_first_choice(
    workspace: Path, tmp_path: Path
):
    question = call("ask_user", question="Proceed?", choices=["go", "stop"])
    script = write_script(
        tmp_path, "q", [turn("1. Fix"), turn("", FIX), turn("", question), finish()]
    )
    done = devfactory("run", "Fix add", "--model", str(script), "--yes", "-w", str(workspace))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "answered automatically: go" in done.stdout

    rejected = devfactory("reject", "1", "-m", "not like this", "-w", str(workspace))
    assert rejected.returncode == 0, rejected.stderr
    assert ChangeStatus.REJECTED.value in rejected.stdout
    assert (workspace / "calc.py").read_text() == CALC
    assert git(workspace, "status", "--porcelain") == ""


def test_approve_exits_1_when_a_change_is_left_in_conflict(workspace: Path, tmp_path: Path):
    """The user changed the file since the run read it: their edit is kept, the command says
    where the run's version is and exits 1 (it printed "resolve them in the editor", exit 0)."""
    script = write_script(tmp_path, "fix", [turn("1. Fix"), turn("", FIX), finish("fixed")])
    assert (
        devfactory("run", "Fix add", "--model", str(script), "-w", str(workspace)).returncode == 0
    )
    mine = CALC.replace("a - b", "b - a")
    (workspace / "calc.py").write_text(mine)
    approved = devfactory("approve", "1", "-w", str(workspace))
    assert approved.returncode == 1, approved.stdout + approved.stderr
    assert "in conflict" in approved.stdout and "  calc.py" in approved.stdout
    assert ".devfactory/worktrees/run-1" in approved.stdout.replace("\n", "")
    assert (workspace / "calc.py").read_text() == mine


def test_restore_undoes_an_apply_and_refuses_a_runs_worktree(workspace: Path, tmp_path: Path):
    """``approve`` names the snapshot that undoes it; ``restore`` acts on it from the terminal
    and names the snapshot that undoes the restore; a run's own result is never restored."""
    script = write_script(tmp_path, "fix", [turn("1. Fix"), turn("", FIX), finish("fixed")])
    assert (
        devfactory("run", "Fix add", "--model", str(script), "-w", str(workspace)).returncode == 0
    )
    approved = devfactory("approve", "1", "-w", str(workspace))
    undo = re.search(
        r"Snapshot \d+ undoes this apply: devfactory (restore \d+ -w \S+)", approved.stdout
    )
    assert undo, approved.stdout
    fixed = CALC.replace("a - b", "a + b")
    assert (workspace / "calc.py").read_text() == fixed

    restored = devfactory(*undo[1].split(), cwd=tmp_path)  # as printed, from another folder
    assert restored.returncode == 0, restored.stderr
    assert "Restored 2 files from snapshot" in restored.stdout  # the fix and its changelog
    assert "  calc.py\n" in restored.stdout and "  CHANGELOG_AI.md\n" in restored.stdout
    assert (workspace / "calc.py").read_text() == CALC
    again = re.search(r"undoes this restore: devfactory (restore \d+ -w \S+)", restored.stdout)
    assert again, restored.stdout
    assert devfactory(*again[1].split(), cwd=tmp_path).returncode == 0
    assert (workspace / "calc.py").read_text() == fixed

    listed = devfactory("snapshots", "--json", "-w", str(workspace))
    snapshots = msgspec.json.decode(listed.stdout, type=list[Snapshot])
    result = next(s for s in snapshots if s.origin is SnapshotOrigin.WORKTREE)
    assert (result.type, result.run_id) == (SnapshotType.FINAL, 1)  # the run's own result
    assert "(run's worktree)" in devfactory("snapshots", "-w", str(workspace)).stdout
    refused = devfactory("restore", str(result.id), "-w", str(workspace))
    assert refused.returncode == 1 and "Error:" in refused.stderr, refused.stderr
    assert (workspace / "calc.py").read_text() == fixed

    taken = devfactory("snapshot", "before my edit", "-w", str(workspace))
    manual = re.search(r"Snapshot (\d+) taken", taken.stdout)
    assert manual, taken.stdout + taken.stderr
    (workspace / "calc.py").write_text("broken\n")
    assert devfactory("restore", manual[1], "-w", str(workspace)).returncode == 0
    assert (workspace / "calc.py").read_text() == fixed


@pytest.mark.parametrize(
    ("turns", "message"),
    [
        (
            [turn("1. Ask"), turn("", call("ask_user", question="Which?"))],
            "no answer (stdin is closed); pass --yes",
        ),
        (None, "Error: run 1 failed: scripted provider: script"),
    ],
    ids=["unanswered-question-cancels", "provider-error-fails"],
)
def test_a_run_that_does_not_complete_exits_1_with_the_reason(
    workspace: Path, tmp_path: Path, turns, message
):
    script = tmp_path / "missing.json" if turns is None else write_script(tmp_path, "s", turns)
    done = devfactory("run", "Task", "--model", str(script), "-w", str(workspace), input="")
    assert done.returncode == 1
    assert message in done.stderr, done.stderr
    if turns is not None:
        assert "Cancelling run 1" in done.stdout


def daemons_of(workspace: Path) -> list[int]:
    """The daemons serving ``workspace`` (their working directory)."""
    found = []
    for pid in processes_with("devfactory.server"):
        with contextlib.suppress(OSError):  # it ended meanwhile
            if os.readlink(f"/proc/{pid}/cwd") == str(workspace):
                found.append(pid)
    return found


def test_ctrl_c_in_a_terminal_cancels_the_run_and_stops_the_daemon(workspace: Path, tmp_path: Path):
    """A terminal's Ctrl+C signals the whole foreground process group: the daemon must not
    die of it before the CLI has cancelled the run."""
    write_files(
        workspace, {"test_slow.py": "import time\n\ndef test_slow():\n    time.sleep(60)\n"}
    )
    git(workspace, "add", "test_slow.py")
    git(workspace, "commit", "-qm", "slow test")
    slow = call("run_command", command="python -m pytest -q test_slow.py")
    script = write_script(tmp_path, "slow", [turn("1. Wait"), turn("", slow), finish()])
    cli = subprocess.Popen(
        [DEVFACTORY, "run", "Wait", "--model", str(script), "-w", str(workspace)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        process_group=0,  # like a terminal's foreground job
    )
    assert cli.stdout is not None
    for line in cli.stdout:
        if "Tests started" in line:
            break
    os.killpg(cli.pid, signal.SIGINT)
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 1
    assert "Cancelling run 1" in out, out + err

    listed = devfactory("runs", "--json", "-w", str(workspace))
    runs = msgspec.json.decode(listed.stdout, type=list[Run])
    assert [(r.id, r.status) for r in runs] == [(1, RunStatus.CANCELLED)], runs
    deadline = time.monotonic() + 10
    while daemons_of(workspace) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert daemons_of(workspace) == []


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        *((["run", "Task"], "--max-cost", cost) for cost in ("nan", "inf", "0", "-1")),
        *((["worker"], "--lease-seconds", lease) for lease in ("nan", "inf")),
    ],
)
def test_a_number_that_could_never_bite_is_refused(
    workspace: Path, command: list[str], option: str, value: str
):
    """``nan`` and ``inf`` were accepted: a budget that never paused the run, a lease that
    never expired."""
    done = devfactory(*command, option, value, "-w", str(workspace))
    assert done.returncode == 2
    assert f"Invalid value for '{option}': {value}" in done.stderr, done.stderr


@pytest.mark.both_databases
async def test_events_follow_tracks_a_run_another_daemon_drives(workspace: Path, tmp_path: Path):
    steps = [turn("", call("read_file", path="calc.py"), delay_s=0.3) for _ in range(8)]
    script = write_script(tmp_path, "slow", [turn("1. Read"), *steps, finish()])
    async with ProtocolClient.spawn(
        workspace, command=SERVER_COMMAND, settings=RUN_OPTIONS
    ) as editor:
        run: Run = await editor.call(
            Requests.RUNS_CREATE,
            RunCreateParams(prompt="Read", provider="scripted", model=str(script)),
        )
        follower = await asyncio.create_subprocess_exec(
            DEVFACTORY,
            "events",
            str(run.id),
            "--follow",
            "--json",
            "-w",
            str(workspace),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=cli_env(),
        )
        out, err = await asyncio.wait_for(follower.communicate(), 60)
        assert follower.returncode == 0, err.decode()
        final: Run = await editor.call(Requests.RUNS_GET, RunIdParams(run_id=run.id))
        assert final.status is RunStatus.COMPLETED, "the CLI's daemon left the run to its owner"
        everything = await editor.call(Requests.EVENTS, {"runId": run.id})
    followed = json_events(out.decode())
    assert followed == everything.events, "followed to the end: nothing lost or repeated"


def test_demo_fixes_the_sample_project_offline(tmp_path: Path):
    done = devfactory("demo", "--dir", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    project = tmp_path / "demo" / "calc"
    for expected in (
        f"Sample project: {project}",
        "Plan",
        "results for 'def add'",
        "Read calc.py",
        "$ python -m pytest -q",
        "Tests failed (pytest): 1 passed, 1 failed",
        "Updated calc.py",
        "Tests passed (pytest): 2 passed",
        "? The tests pass. How should the changelog describe this?",
        "answered automatically: bug fix",
        "Summary  Fixed add() in calc.py",
        "Run completed",
        "Proposed changes of run 1",
        "changes applied",
        "calc.py now adds",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert out.index("Tests failed") < out.index("Updated calc.py") < out.index("Tests passed")
    assert "return a + b" in (project / "calc.py").read_text()
    assert "Fixed add()" in (project / "CHANGELOG_AI.md").read_text()
    status = git(project, "status", "--porcelain")
    assert status.split() == ["M", "calc.py", "??", "CHANGELOG_AI.md"]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout


@pytest.mark.parametrize("flags", [[], ["--factory"]], ids=["demo", "factory-demo"])
def test_demo_refuses_a_folder_that_holds_an_earlier_demo(tmp_path: Path, flags: list[str]):
    project = tmp_path / "demo" / "calc"
    project.mkdir(parents=True)
    (project / "calc.py").write_text("mine\n")
    done = devfactory("demo", *flags, "--dir", str(tmp_path / "demo"))
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {project} already exists (an earlier demo?): delete it, or pass another --dir\n"
    )
    assert [p.name for p in project.iterdir()] == ["calc.py"], "left as it was"
