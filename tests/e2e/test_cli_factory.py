"""``devfactory demo --factory``, ``plan``, ``initiatives`` and ``initiative`` as real
subprocesses: offline, scripted agents, real daemons, git and review."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec

from cli_support import calc_workspace, devfactory
from devfactory.protocol.enums import InitiativeStatus
from devfactory.protocol.initiatives import Initiative
from factory_support import analyst, architect, coder, plan_of, planned, write_factory_script
from runs_support import call
from support import git


def test_the_factory_demo_runs_offline(tmp_path: Path) -> None:
    done = devfactory("demo", "--factory", "--dir", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())  # rich wraps long lines
    project = tmp_path / "demo" / "calc"
    for expected in (
        "Initiative 1 on branch df/calculator-2-0",
        "Handoff: software_specification",
        "Handoff: implementation_plan",
        "1 proposal 1. create page Software specification",
        "6. create task Document the calculator",
        "Phase Fix waits for your review: update calc.py 1 hunk",
        "Merged task 4",
        "Merged task 5",
        "Phase Extend waits for your review",
        "4 changes applied",
        "Initiative completed",
        "5. Document the calculator completed documentation · run 5",
    ):
        assert expected in out, f"{expected!r} missing from:\n{done.stdout}"
    assert out.index("Approve phase Fix?") < out.index("Task Add power(): in progress")
    assert "return a + b" in (project / "calc.py").read_text()
    assert (project / "USAGE.md").exists() and (project / "power.py").exists()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout
    assert "Merge task 4: Add power()" in git(project, "log", "--format=%s", "df/calculator-2-0")


def test_plan_asks_at_the_prompt_and_lists(tmp_path: Path) -> None:
    workspace = calc_workspace(tmp_path / "calc")
    plan = plan_of(planned("fix", "Fix add", "Fix"))
    script = write_factory_script(
        tmp_path / "scripts",
        "fix",
        [
            analyst("Fix the calculator"),
            architect("Fix the calculator", plan),
            coder(
                "Fix add",
                call("edit_file", path="calc.py", search="a - b", replace="a + b"),
                summary="add() adds",
            ),
        ],
    )
    answers = "n\ny\ny\ny\ny\n"  # the spec page is dismissed; the rest accepted, approved
    done = devfactory(
        "plan",
        "Fix the calculator",
        "--provider",
        "scripted",
        "--model",
        str(script),
        "-w",
        str(workspace),
        input=answers,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    for expected in (
        "Accept proposal 1 (Software specification)? [Y/n]",
        "Proposal dismissed: Software specification",
        "Approve phase Fix? [Y/n]",
        "Apply them to your workspace? [Y/n]",
        "1 change applied",
    ):
        assert expected in out, f"{expected!r} missing from:\n{done.stdout}"
    assert "a + b" in (workspace / "calc.py").read_text()

    listed = devfactory("initiatives", "--json", "-w", str(workspace))
    initiatives = msgspec.json.decode(listed.stdout, type=list[Initiative])
    assert [(i.id, i.status) for i in initiatives] == [(1, InitiativeStatus.COMPLETED)]
    shown = devfactory("initiative", "1", "-w", str(workspace))
    assert "Fix the calculator (1) completed" in shown.stdout, shown.stdout
    assert (
        json.loads(devfactory("initiative", "1", "--json", "-w", str(workspace)).stdout)[
            "initiative"
        ]["branch"]
        == "df/fix-the-calculator"
    )
