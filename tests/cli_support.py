"""Helpers for the CLI tests: ``devfactory`` as a real subprocess, on a scripted workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import git, make_git_repo, trust_workspace

DEVFACTORY = str(Path(sys.executable).with_name("devfactory"))
CALC = "def add(a, b):\n    return a - b\n"


def cli_env() -> dict[str, str]:
    """A ``devfactory`` command's environment: the test's (where the ``database`` fixture
    may have set ``DEVFACTORY_STORAGE``), wide and without colour for stable output."""
    return {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}


def devfactory(
    *args: str, input: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``devfactory`` command and capture what it prints."""
    return subprocess.run(
        [DEVFACTORY, *args],
        input=input,
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        timeout=90,
        check=False,
    )


def calc_workspace(root: Path) -> Path:
    """A repository with a buggy ``calc.py``, scripted runs and no index."""
    make_git_repo(root, {"calc.py": CALC})
    (root / "devfactory.toml").write_text(
        'default_provider = "scripted"\n[index]\nenabled = false\n'
    )
    git(root, "add", "devfactory.toml")
    git(root, "commit", "-qm", "settings")
    return trust_workspace(root)
