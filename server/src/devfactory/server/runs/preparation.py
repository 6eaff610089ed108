"""What a run needs before its agent works: its provider (with the team's key, when the team
stores one), the pre_run snapshot and the worktree on the run's branch (reused by later
iterations, retries and segments)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from devfactory.protocol.enums import EventType, SnapshotType
from devfactory.protocol.events import GitBranchCreated, Payload
from devfactory.protocol.runs import Run
from devfactory.protocol.snapshots import Snapshot

from ..safefs import PathRefused, SafeTree, protected_files

if TYPE_CHECKING:
    from .context import RunContext
    from .segment import Segment


class PreparingRun(Protocol):
    """What preparing needs of the run's worker (the worker itself, without importing it)."""

    context: RunContext
    segment: Segment | None

    async def update(self, **fields: Any) -> Run: ...

    async def emit(
        self, type: EventType, title: str, payload: Payload, *, message: str = "", **kw: Any
    ) -> Any: ...


class RunFailed(Exception):
    """The run cannot continue; the message becomes its failed_reason."""


async def provider_for(context: RunContext, run: Run) -> Any:
    """The run's model provider; ProviderUnavailable when it cannot be made."""
    from ..agents.providers.base import ProviderUnavailable
    from ..agents.providers.registry import create_provider
    from ..team.keys import TeamKeyError, TeamKeys

    try:
        team_key = await TeamKeys(context.store).get(run.provider)
    except TeamKeyError as exc:
        raise ProviderUnavailable(f"{run.provider}: {exc}") from None
    return create_provider(
        run.provider,
        context.settings,
        model=run.model,
        workspace=context.root,
        store=context.store,
        team_key=team_key,
    )


async def prepare(worker: PreparingRun, run: Run) -> tuple[Path, str]:
    """The run's worktree and base commit: the pre_run snapshot and the worktree made the
    first time, found again later."""
    snapshots, worktrees = worker.context.snapshots, worker.context.worktrees
    if run.base_snapshot_id is not None and run.worktree_path:
        base = await snapshots.get(run.base_snapshot_id)
        worktree = worktrees.path_for(run.id)
        if worker.segment is not None and not worktree.is_dir():
            return await _made_again(worker, run, base)
        return worktree, base.commit_sha
    if run.metadata.base_commit is not None:  # an initiative's task, on its branch
        return await _worktree(worker, run, run.metadata.base_commit), run.metadata.base_commit
    snapshot = await snapshots.create(
        SnapshotType.PRE_RUN, f"before run {run.id}: {run.title}", run_id=run.id
    )
    await worker.update(base_snapshot_id=snapshot.id)
    return await _worktree(worker, run, snapshot.commit_sha), snapshot.commit_sha


async def _worktree(worker: PreparingRun, run: Run, base: str) -> Path:
    """The run's worktree on its branch at ``base`` (kept if it exists already).

    A run prepared for the first time has no checkpoints: any under its id are another
    database's run 1 (the workspace changed stores), and would pass for this run's.
    """
    assert run.branch_name is not None
    if run.worktree_path is None:
        await worker.context.checkpoints.drop(run.id)
    worktree = await worker.context.worktrees.create(
        run.id, run.branch_name, base, owner=run.created_at
    )
    await worker.update(worktree_path=str(worktree))
    await worker.emit(
        EventType.GIT_BRANCH_CREATED,
        f"Branch {run.branch_name}",
        GitBranchCreated(branch=run.branch_name, base=base, worktree_path=str(worktree)),
        message=f"worktree {worktree}",
    )
    return worktree


async def _made_again(worker: PreparingRun, run: Run, base: Snapshot) -> tuple[Path, str]:
    """A run taken over from another machine (a worker there stopped): its worktree made
    again here, from the same base tree and the files it proposed so far (stored with the
    team's changes), so its next segment goes on where the last one stopped.

    The base must be a tree this clone holds: the run started from a commit both machines
    have, not from changes only the other one had.
    """
    context = worker.context
    gone = f"the run's worktree ({run.worktree_path}) is not on this machine"
    if not await context.snapshots.has_tree(base.tree_sha):
        raise RunFailed(
            f"{gone}, and this clone lacks its base (snapshot {base.id}, tree "
            f"{base.tree_sha[:12]}: the run started from changes not committed and shared "
            "here); retry the run to start it afresh here"
        )
    files = await context.proposals.proposed_files(run)
    if files is None:
        raise RunFailed(
            f"{gone}, and what it changed so far is not all stored with its changes; "
            "retry the run to start it afresh here"
        )
    snapshot = await context.snapshots.of_tree(
        base.tree_sha,
        SnapshotType.PRE_RUN,
        f"before run {run.id}: {run.title} (its base, made again on this machine)",
        run_id=run.id,
    )
    await worker.update(base_snapshot_id=snapshot.id)
    worktree = await _worktree(worker, run, snapshot.commit_sha)
    try:
        write_back(SafeTree(worktree, protected_files(context.root, context.settings)), files)
    except (OSError, PathRefused) as exc:
        raise RunFailed(f"{gone}, and making it again here failed: {exc}") from None
    return worktree, snapshot.commit_sha


def write_back(worktree: SafeTree, files: list[tuple[str, bytes | None]]) -> None:
    """Put the files a run proposed into its worktree (None: deleted), through the same
    path rules as the agent's tools: their paths come from the database, so a link on the way,
    ``..``, ``.git``, ``.devfactory/`` or DevFactory's settings are refused (PathRefused)
    before anything is written."""
    for path, _ in files:
        worktree.check(path)
    for path, content in files:
        if content is None:
            worktree.delete(path)
        else:
            worktree.write(path, content)
