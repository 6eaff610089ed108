"""``devfactory health`` as a user runs it: which bubblewrap sandboxes commands (path,
version, system or bundled), from a real daemon on a real git repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from command_support import require
from devfactory.server.execution.sandbox import bundled_bwrap
from support import make_git_repo, trust_workspace

DEVFACTORY = str(Path(sys.executable).with_name("devfactory"))


def test_health_names_the_bubblewrap_that_sandboxes_commands(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "project", {"README.md": "# project\n"})
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}

    def health(*args: str) -> str:
        done = subprocess.run(
            [DEVFACTORY, "health", "--workspace", str(repo), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    sandbox = json.loads(health("--json"))["sandbox"]
    if sys.platform != "linux":
        assert sandbox["active"] is False and sandbox["reason"]
        return
    require("the command sandbox", None if sandbox["active"] else sandbox["reason"])
    system = shutil.which("bwrap", path=env.get("PATH"))
    tool, source = (system, "system") if system else (bundled_bwrap(), "bundled")
    assert (sandbox["tool"], sandbox["source"]) == (tool, source)
    [row] = [line for line in health().splitlines() if " sandbox " in line]
    assert f"active ({source} bwrap {sandbox['version']}, {tool})" in row


def test_health_says_whether_the_default_provider_can_run(tmp_path: Path) -> None:
    repo = make_git_repo(tmp_path / "project", {"README.md": "# project\n"})
    (repo / "devfactory.toml").write_text(
        '[index]\nenabled = false\n[providers.openai]\napi_key_env = ["DEVFACTORY_TEST_UNSET_KEY"]\n'
    )
    trust_workspace(repo)
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1"}
    done = subprocess.run(
        [DEVFACTORY, "health", "--workspace", str(repo)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if " provider " in line]
    assert "cannot run: openai: no API key: set DEVFACTORY_TEST_UNSET_KEY" in row
