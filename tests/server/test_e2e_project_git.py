"""``devfactory/project/pull`` (and the remote of ``devfactory/git/push``) over the real daemon.

A remote is a configured remote's name, never an option git would run (``--upload-pack=``);
a branch is a branch name. A pull without an upstream pulls the remote's branch of the same
name, and says how to set one when the remote has no such branch.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig

from devfactory.protocol.git import GitPushParams
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import GitCommandResult, ProjectPullParams
from support import (
    SERVER_COMMAND,
    DaemonClient,
    git,
    initialize_params,
    make_client,
    make_git_repo,
)

UPSTREAM_FILES = {"README.md": "# upstream\n"}


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "upstream", UPSTREAM_FILES)


@pytest.fixture
def workspace(tmp_path: Path, upstream: Path) -> Path:
    """A clone of ``upstream`` whose branch has no upstream; upstream moved on since."""
    root = tmp_path / "workspace"
    git(tmp_path, "clone", "-q", str(upstream), str(root))
    git(root, "branch", "--unset-upstream")
    (upstream / "NEW.md").write_text("new\n")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "new upstream commit")
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_client)
)
async def daemon(lsp_client: DaemonClient, workspace: Path) -> AsyncIterator[None]:
    """One client profile: git does not care which editor asked."""
    options = {"index": {"enabled": False, "watch": False}}
    await lsp_client.initialize_session(initialize_params(workspace, options=options))
    yield
    await lsp_client.shutdown_session()


async def test_a_pull_without_an_upstream_pulls_the_branch_of_the_same_name(
    daemon: DaemonClient, workspace: Path, upstream: Path
):
    result: GitCommandResult = await daemon.call(Requests.PROJECT_PULL, ProjectPullParams())
    assert result.ok
    assert (workspace / "NEW.md").read_text() == "new\n"
    assert git(workspace, "rev-parse", "HEAD") == git(upstream, "rev-parse", "HEAD")


async def test_a_pull_from_a_remote_without_that_branch_says_how_to_set_the_upstream(
    daemon: DaemonClient, workspace: Path
):
    git(workspace, "switch", "-qc", "topic")
    with pytest.raises(JsonRpcException, match=r"git branch --set-upstream-to=origin/"):
        await daemon.call(Requests.PROJECT_PULL, ProjectPullParams())


OPTION_AS_REMOTE = "--upload-pack=touch {marker};git-upload-pack"

BAD_PULLS = [
    ({"remote": OPTION_AS_REMOTE}, "is not a configured remote"),
    ({"remote": "elsewhere"}, "is not a configured remote (configured: origin)"),
    ({"branch": "--upload-pack=touch {marker}"}, "is not a branch name"),
    ({"branch": "main:main"}, "is not a branch name"),
]


@pytest.mark.parametrize(("params", "message"), BAD_PULLS)
async def test_a_pull_refuses_what_is_not_a_remote_or_a_branch(
    daemon: DaemonClient, workspace: Path, tmp_path: Path, params: dict[str, str], message: str
):
    marker = tmp_path / "pwned"
    hostile = {key: value.format(marker=marker) for key, value in params.items()}
    with pytest.raises(JsonRpcInvalidParams, match=re.escape(message)):
        await daemon.call(Requests.PROJECT_PULL, ProjectPullParams(**hostile))
    assert not marker.exists()
    assert not (workspace / "NEW.md").exists()


async def test_a_push_refuses_an_option_as_remote(daemon: DaemonClient, tmp_path: Path):
    marker = tmp_path / "pwned"
    remote = f"--receive-pack=touch {marker};git-receive-pack"
    with pytest.raises(JsonRpcInvalidParams, match="is not a configured remote"):
        await daemon.call(Requests.GIT_PUSH, GitPushParams(run_id=1, remote=remote))
    assert not marker.exists()


async def test_pull_in_a_workspace_on_a_detached_head_asks_for_a_branch(
    daemon: DaemonClient, workspace: Path
):
    git(workspace, "checkout", "-q", "--detach")
    with pytest.raises(JsonRpcException, match="detached HEAD: pass branch"):
        await daemon.call(Requests.PROJECT_PULL, ProjectPullParams())
