"""Git publishing and audit: ``devfactory/git/commit|push|log`` and
``devfactory/project/clone|pull``.

Every git command the daemon runs is recorded (args, outputs, exit code, duration); ``log``
returns that audit trail. Pushing a run's branch is refused until the run has an approved
review: changes leave the machine only after a person said yes.
"""

from __future__ import annotations

from pathlib import Path

from devfactory.protocol.enums import ReviewDecision
from devfactory.protocol.git import (
    GitCommitParams,
    GitCommitResult,
    GitLog,
    GitLogParams,
    GitPushParams,
    GitPushResult,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import GitCommandResult, ProjectCloneParams, ProjectPullParams
from devfactory.protocol.runs import Run

from .. import rpc, services
from ..app import DevFactoryServer
from ..context import Workspace
from ..errors import InvalidParams, InvalidState, Refused, Unavailable
from ..git.remotes import checked_branch, checked_remote, no_such_branch, pull_branch
from ..git.runner import GitError
from ..workspace.repository import WorkspaceRepository
from ..workspace.worktrees import commit_worktree


def setup(server: DevFactoryServer) -> None:
    async def worktree_of(run_id: int) -> tuple[Workspace, WorkspaceRepository, Run]:
        workspace = await server.need(Workspace)
        run = await workspace.run(run_id)
        if not run.worktree_path or not Path(run.worktree_path).is_dir():
            raise InvalidState(f"run {run.id} has no worktree yet (it is {run.status.value})")
        return workspace, (await server.need(services.SnapshotService)).repo, run

    @rpc.request(server, Requests.GIT_COMMIT)
    async def commit(params: GitCommitParams) -> GitCommitResult:
        workspace, repo, run = await worktree_of(params.run_id)
        message = params.message
        if not message:
            events = await workspace.store.events.list(
                workspace.project.id, run_id=run.id, limit=10_000
            )
            summary = next(
                (e.message for e in reversed(events) if e.type.value == "final_summary"), ""
            )
            message = f"{run.title}\n\n{summary}".strip() + f"\n\nDevFactory run {run.id}"
        worktree = Path(run.worktree_path or "")
        head = await repo.out("rev-parse", "HEAD", cwd=worktree, audit=False)
        sha = await commit_worktree(repo, worktree, message, run_id=run.id)
        if sha == head:
            raise InvalidState(f"run {run.id} has nothing to commit")
        branch = await repo.out("symbolic-ref", "--short", "HEAD", cwd=worktree, audit=False)
        return GitCommitResult(branch=branch, commit_sha=sha)

    @rpc.request(server, Requests.GIT_PUSH)
    async def push(params: GitPushParams) -> GitPushResult:
        remote = await checked_remote((await server.need(Workspace)).git, params.remote)
        workspace, repo, run = await worktree_of(params.run_id)
        if repo.private:
            raise Unavailable(
                f"run {run.id}'s branch is in DevFactory's private repository: the workspace "
                f"{workspace.root} is not the top of a git repository. Apply its changes "
                "(devfactory/changes/approve) and commit them in your repository"
            )
        review = await workspace.store.reviews.latest(params.run_id)
        if review is None or review.decision is not ReviewDecision.APPROVED:
            state = (
                "has no review" if review is None else f"was reviewed as {review.decision.value}"
            )
            raise Refused(
                f"run {params.run_id} {state}: pushing needs an approved review "
                "(devfactory/reviews/submit with decision approved)"
            )
        worktree = Path(run.worktree_path or "")
        branch = await repo.out("symbolic-ref", "--short", "HEAD", cwd=worktree, audit=False)
        try:  # from the workspace: the branch is the repository's, and the user's hooks run
            result = await workspace.git.run(
                "push", "--", remote, f"{branch}:{branch}", operation="push", run_id=run.id
            )
        except GitError as exc:
            raise Unavailable(str(exc)) from None
        return GitPushResult(
            remote=params.remote, branch=branch, output=(result.stderr + result.stdout).strip()
        )

    @rpc.request(server, Requests.GIT_LOG)
    async def log(params: GitLogParams) -> GitLog:
        workspace = await server.need(Workspace)
        found = await workspace.store.git_operations.list(
            workspace.project.id, params.run_id, params.limit
        )
        return GitLog(operations=found)

    @rpc.request(server, Requests.PROJECT_CLONE)
    async def clone(params: ProjectCloneParams) -> GitCommandResult:
        workspace = await server.need(Workspace)
        target = Path(params.path).expanduser()
        if not target.is_absolute():
            target = workspace.root / target
        if target.exists() and any(target.iterdir()):
            raise InvalidParams(f"path {target} exists and is not empty; choose a new folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = await workspace.git.run(
                "clone", "--", params.repository_url, str(target), operation="clone"
            )
        except GitError as exc:
            raise Unavailable(str(exc)) from None
        return GitCommandResult(
            ok=True, path=str(target), output=(result.stderr + result.stdout).strip()
        )

    @rpc.request(server, Requests.PROJECT_PULL)
    async def pull(params: ProjectPullParams) -> GitCommandResult:
        workspace = await server.need(Workspace)
        git = workspace.git
        remote = await checked_remote(git, params.remote)
        branch = await checked_branch(git, params.branch or await pull_branch(git, remote))
        try:
            result = await git.run("pull", "--ff-only", "--", remote, branch, operation="pull")
        except GitError as exc:
            if "couldn't find remote ref" in exc.result.stderr:
                raise Unavailable(no_such_branch(remote, branch)) from None
            raise Unavailable(str(exc)) from None
        return GitCommandResult(
            ok=True, path=str(workspace.root), output=(result.stderr + result.stdout).strip()
        )
