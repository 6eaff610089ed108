"""``devfactory message|rewind|rules`` and ``run --plan/--max-tokens`` as a user runs them:
real subprocesses, real daemons, real git."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_support import calc_workspace, devfactory
from runs_support import call, finish, turn, write_script
from support import git

FIX = call("edit_file", path="calc.py", search="a - b", replace="a + b")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return calc_workspace(tmp_path / "project")


def test_message_follows_up_a_finished_run_and_rewind_puts_it_back(workspace: Path, tmp_path: Path):
    script = write_script(
        tmp_path,
        "talk",
        [
            turn("1. Fix add"),
            turn("", FIX),
            finish("add() adds"),
            turn("On it.", call("write_file", path="notes.txt", content="tested\n")),
            finish("noted"),
        ],
    )
    first = devfactory("run", "Fix add", "--model", str(script), "-w", str(workspace))
    assert first.returncode == 0, first.stdout + first.stderr

    again = devfactory("message", "1", "now take notes", "-w", str(workspace))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "On it." in again.stdout and "noted" in again.stdout
    worktree = next((workspace / ".devfactory" / "worktrees").glob("run-1"))
    assert (worktree / "notes.txt").read_text() == "tested\n"

    back = devfactory("rewind", "1", "1", "-w", str(workspace))
    assert back.returncode == 0, back.stdout + back.stderr
    assert "Run 1 rewound to step 1" in back.stdout and "notes.txt" in back.stdout
    assert not (worktree / "notes.txt").exists()
    assert (worktree / "calc.py").read_text().endswith("a + b\n")

    runs = devfactory("runs", "-w", str(workspace))
    assert runs.returncode == 0, runs.stderr


def test_run_plan_is_approved_at_the_prompt_and_rules_lists_what_applies(
    workspace: Path, tmp_path: Path
):
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "AGENTS.md").write_text("Tabs in pkg.\n")
    (workspace / "AGENTS.md").write_text("Short functions.\n")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "rules")
    script = write_script(
        tmp_path,
        "plan",
        [
            turn("", call("write_file", path="calc.py", content="too early\n")),
            turn("", call("propose_plan", plan="1. Make add() add")),
            turn("", FIX),
            finish("add() adds"),
        ],
    )
    done = devfactory(
        "run", "Fix add", "--plan", "--model", str(script), "-w", str(workspace), input="approve\n"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Run 1 proposes a plan:" in done.stdout and "1. Make add() add" in done.stdout
    worktree = next((workspace / ".devfactory" / "worktrees").glob("run-1"))
    assert (worktree / "calc.py").read_text().endswith("a + b\n")

    nested = devfactory("rules", "pkg/x.py", "-w", str(workspace))
    assert nested.returncode == 0, nested.stderr
    assert "AGENTS.md" in nested.stdout and "pkg/AGENTS.md (for pkg/)" in nested.stdout
    root = devfactory("rules", "calc.py", "-w", str(workspace))
    assert "pkg/AGENTS.md" not in root.stdout and "AGENTS.md" in root.stdout


@pytest.mark.parametrize(("reply", "status"), [("no\n", "cancelled"), ("yes\n", "completed")])
def test_a_token_budget_pauses_the_run_and_asks_whether_to_go_on(
    workspace: Path, tmp_path: Path, reply: str, status: str
):
    script = write_script(
        tmp_path, "budget", [turn("1. Look"), turn("", call("list_files")), finish()]
    )
    args = ("run", "Look", "--max-tokens", "5", "--model", str(script), "-w", str(workspace))
    done = devfactory(*args, input=reply)
    out = done.stdout + done.stderr
    assert "Budget reached: the run has used" in out and "budget of 5" in out, out
    assert f"Run {status}" in out, out
