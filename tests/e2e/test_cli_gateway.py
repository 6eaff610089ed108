"""``devfactory gateway`` as a user starts it, when it cannot listen: one clear line and an
exit, not a process that lingers until someone kills it."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from cli_support import DEVFACTORY, cli_env
from support import make_git_repo


def gateway(workspace: Path, port: str, *flags: str) -> subprocess.CompletedProcess[str]:
    flags = flags or ("--insecure-no-tls",)
    return subprocess.run(
        [DEVFACTORY, "gateway", *flags, "--port", port, "-w", str(workspace)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=30,
        check=False,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "ws", {"app.py": "VALUE = 1\n"})


def test_a_taken_port_is_one_line_and_an_exit(workspace: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = gateway(workspace, str(taken.getsockname()[1]))
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("Error:") and line.endswith("address already in use"), line


def test_a_port_out_of_range_is_a_usage_error(workspace: Path) -> None:
    done = gateway(workspace, "70000")
    assert done.returncode == 2
    assert "Invalid value for '--port'" in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (("--insecure-no-tls", "--host", "0.0.0.0"), "listens on this host only"),
        (("--insecure-no-tls", "--host", "gateway.example"), "listens on this host only"),
        (("--insecure-no-tls", "--cert", "{pem}"), "drop --cert/--key"),
        (("--insecure-no-tls", "--key", "{pem}"), "drop --cert/--key"),
        (("--cert", "{pem}"), "give --cert and --key"),
        (("--key", "{pem}"), "give --cert and --key"),
    ],
)
def test_tls_options_that_do_not_add_up_are_usage_errors(
    workspace: Path, flags: tuple[str, ...], problem: str
) -> None:
    pem = workspace.parent / "any.pem"
    pem.write_text("not read: the options are refused first\n")
    done = gateway(workspace, "0", *(f.format(pem=pem) for f in flags))
    assert done.returncode == 2, done.stderr
    assert problem in done.stderr, done.stderr
