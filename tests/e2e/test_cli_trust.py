"""A workspace's own devfactory.toml is the project's: what it sets that runs programs as the
user or sends their keys somewhere waits for ``devfactory trust``, which shows it first."""

from __future__ import annotations

from pathlib import Path

from cli_support import devfactory
from support import make_git_repo

SANDBOX_OFF = "off: disabled by the commands.sandbox setting"


def test_a_repositorys_settings_apply_only_once_the_user_trusted_them(tmp_path: Path) -> None:
    settings = "[index]\nenabled = false\n[commands]\nsandbox = false\n"
    repo = make_git_repo(tmp_path / "cloned", {"devfactory.toml": settings})

    health = devfactory("health", "-w", str(repo))
    assert health.returncode == 0, health.stderr
    assert SANDBOX_OFF not in health.stdout
    assert "Warning:" in health.stderr and f"devfactory trust -w {repo}" in health.stderr
    assert "commands.sandbox" in health.stderr

    declined = devfactory("trust", "-w", str(repo), input="n\n")
    assert declined.returncode == 1 and '"sandbox": false' in declined.stdout
    assert SANDBOX_OFF not in devfactory("health", "-w", str(repo)).stdout

    trusted = devfactory("trust", "-w", str(repo), "--yes")
    assert trusted.returncode == 0, trusted.stderr
    health = devfactory("health", "-w", str(repo))
    assert SANDBOX_OFF in health.stdout and "Warning:" not in health.stderr

    (repo / "devfactory.toml").write_text(settings + "allow_unsandboxed = true\n")
    health = devfactory("health", "-w", str(repo))  # not what was trusted: held back again
    assert SANDBOX_OFF not in health.stdout and "commands.allowUnsandboxed" in health.stderr

    assert devfactory("trust", "-w", str(repo), "--yes").returncode == 0
    assert SANDBOX_OFF in devfactory("health", "-w", str(repo)).stdout
    assert devfactory("trust", "-w", str(repo), "--revoke").returncode == 0
    assert SANDBOX_OFF not in devfactory("health", "-w", str(repo)).stdout
