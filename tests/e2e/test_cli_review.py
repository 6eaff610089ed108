"""The review loop from the terminal: ``devfactory comment|comments|review|commit|push`` as a
user runs them (real subprocesses, a daemon per command, real git and a bare remote).

A scripted run proposes a fix; the reviewer comments on a line, sends the comment back
(``review --request-changes`` follows the second iteration to its end), commits the run's
branch, is refused a push until ``review --approve``, then pushes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_support import calc_workspace, devfactory
from runs_support import call, finish, turn, write_script
from support import git

FIX = call("edit_file", path="calc.py", search="a - b", replace="a + b")
DOCSTRING = call(
    "edit_file",
    path="calc.py",
    search="def add(a, b):\n",
    replace='def add(a, b):\n    """Sum."""\n',
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return calc_workspace(tmp_path / "project")


def ok(*args: str) -> str:
    done = devfactory(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "flags", [["--approve", "--reject"], ["--comment", "--request-changes", "--comment"]]
)
def test_review_refuses_two_decisions_at_once(workspace: Path, flags: list[str]):
    """Once the last flag won: ``--approve --reject`` recorded a rejection, exit status 0."""
    done = devfactory("review", "1", *flags, "-w", str(workspace))
    assert done.returncode == 2
    assert "say what the review decides, once:" in done.stderr, done.stderr


def test_comment_request_changes_review_commit_and_push(workspace: Path, tmp_path: Path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(workspace, "remote", "add", "origin", str(remote))
    # The second iteration replays the script: the fix is there already, the docstring is new.
    script = write_script(
        tmp_path, "fix", [turn("1. Fix add"), turn("", FIX), turn("", DOCSTRING), finish("fixed")]
    )
    ws = ("-w", str(workspace))
    ok("run", "Fix add", "--model", str(script), *ws)

    commented = ok("comment", "1", "2", "add a docstring", *ws)
    assert "Comment 1 on change 1 line 2 (run 1)" in commented
    assert "devfactory review 1 --request-changes" in commented
    listed = ok("comments", "1", *ws)
    assert "add a docstring" in listed and "open" in listed

    bad_line = devfactory("comment", "1", "0", "x", *ws)
    assert bad_line.returncode == 2 and "0 is not in the range x>=1" in bad_line.stderr
    no_decision = devfactory("review", "1", *ws)
    assert no_decision.returncode == 2
    assert "--approve, --reject, --comment or --request-changes" in no_decision.stderr

    again = ok("review", "1", "--request-changes", "-m", "keep it short", *ws)
    assert "Run 1, iteration 2" in again
    assert "Review feedback (iteration 2)" in again
    assert "calc.py line 2: add a docstring" in again
    assert "Run 1 completed" in again
    assert "Proposed changes of run 1" in again
    assert ok("comments", "1", *ws).strip() == "Run 1 has no open comments."
    assert "resolved" in ok("comments", "1", "--all", *ws)

    committed = ok("commit", "1", "-m", "Fix add", *ws)
    branch = committed.split(" on ")[-1].strip()
    assert committed.startswith("Committed ") and branch

    refused = devfactory("push", "1", *ws)
    assert refused.returncode == 1
    assert "run 1 has no review: pushing needs an approved review" in refused.stderr
    assert git(remote, "branch", "--list").strip() == ""

    assert "Run 1 reviewed: commented" in ok("review", "1", "--comment", "-m", "looking", *ws)
    still = devfactory("push", "1", *ws)
    assert "run 1 was reviewed as commented" in still.stderr

    approved = ok("review", "1", "--approve", "-m", "good", *ws)
    assert "Run 1 reviewed: approved" in approved and "devfactory push 1" in approved
    pushed = ok("push", "1", *ws)
    assert f"Pushed {branch} to origin" in pushed
    sha = git(workspace, "rev-parse", branch).strip()
    assert git(remote, "rev-parse", branch).strip() == sha
    assert '"""Sum."""' in git(remote, "show", f"{branch}:calc.py")
