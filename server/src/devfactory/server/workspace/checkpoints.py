"""Per-step checkpoints of a run's worktree, and putting the worktree back to one.

After every step that may have changed the worktree (a write, an edit, a delete, a command)
its files are written as a git tree, exactly as they are (untracked files a command made
included, ignored ones not); when the tree differs from the last checkpoint's, a commit of it
goes under ``refs/devfactory/checkpoints/run-<id>/<step>``. Git stores each file version once,
so a checkpoint costs only what changed. The refs are the record: nothing else to keep in
step. Rewinding writes the checkpoint's tree back through the same all-or-nothing restore as
snapshots (no link followed, nothing outside the worktree touched) and drops the later
checkpoints, so the run can take another turn from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .repository import WorkspaceRepository
from .restore import HalfRestored, RestoreRefused, put_tree

CHECKPOINT_REF_PREFIX = "refs/devfactory/checkpoints/"


@dataclass(frozen=True)
class Checkpoint:
    step: int
    commit: str
    tree: str


def _prefix(run_id: int) -> str:
    return f"{CHECKPOINT_REF_PREFIX}run-{run_id}/"


class CheckpointService:
    """Records and restores the checkpoints of runs' worktrees."""

    def __init__(self, repo: WorkspaceRepository) -> None:
        self.repo = repo

    async def all(self, run_id: int) -> list[Checkpoint]:
        """The run's checkpoints, by step."""
        listing = await self.repo.out(
            "for-each-ref",
            "--format=%(refname) %(objectname) %(tree)",
            _prefix(run_id),
            audit=False,
        )
        found = []
        for line in listing.splitlines():
            ref, commit, tree = line.split(" ")
            step = ref.rsplit("/", 1)[-1]
            if step.isdigit():
                found.append(Checkpoint(int(step), commit, tree))
        return sorted(found, key=lambda c: c.step)

    async def at(self, run_id: int, step: int, base_commit: str) -> Checkpoint:
        """The worktree as it was after ``step``: the last checkpoint up to it, or the base."""
        earlier = [c for c in await self.all(run_id) if c.step <= step]
        if earlier:
            return earlier[-1]
        tree = await self.repo.out("rev-parse", f"{base_commit}^{{tree}}", audit=False)
        return Checkpoint(0, base_commit, tree)

    async def record(
        self, run_id: int, worktree: Path, step: int, base_commit: str
    ) -> tuple[Checkpoint, list[str]] | None:
        """Checkpoint the worktree after ``step`` if it changed since the last checkpoint;
        returns it and the paths that changed."""
        previous = await self.at(run_id, step, base_commit)
        tree = await self.repo.tree_of(worktree, operation="checkpoint", run_id=run_id)
        if tree == previous.tree:
            return None
        commit = await self.repo.out(
            "commit-tree",
            tree,
            "-p",
            previous.commit,
            "-m",
            f"devfactory run {run_id} step {step}",
            audit=False,
        )
        await self.repo.run("update-ref", f"{_prefix(run_id)}{step}", commit, audit=False)
        changed = await self.repo.out(
            "diff-tree", "-r", "--name-only", "--no-renames", "-z", previous.tree, tree, audit=False
        )
        return Checkpoint(step, commit, tree), [p for p in changed.split("\0") if p]

    async def rewind(
        self, run_id: int, worktree: Path, step: int, base_commit: str
    ) -> tuple[Checkpoint, list[str]]:
        """Put the worktree back as it was after ``step`` and forget the later checkpoints;
        returns the checkpoint restored and the paths written or deleted. RestoreRefused
        (nothing changed) names what stood in the way."""
        target = await self.at(run_id, step, base_commit)
        current = await self.repo.tree_of(worktree, operation="rewind", run_id=run_id)
        try:
            files = await put_tree(self.repo, worktree, current, target.tree)
        except HalfRestored as exc:  # put back what was there, then say why
            partial = await self.repo.tree_of(worktree, operation="rewind", run_id=run_id)
            await put_tree(self.repo, worktree, partial, current)
            raise RestoreRefused(f"it failed half-way ({exc}); the worktree was put back") from exc
        await self.drop(run_id, after=step)
        return target, files

    async def tree(self, run_id: int, worktree: Path) -> str:
        """The worktree's files now, as a git tree (to put them back after a read-only
        command)."""
        return await self.repo.tree_of(worktree, operation="checkpoint", run_id=run_id)

    async def put_back(self, run_id: int, worktree: Path, tree: str) -> list[str]:
        """Undo whatever changed the worktree since ``tree`` was taken; the paths put back."""
        current = await self.tree(run_id, worktree)
        if current == tree:
            return []
        return await put_tree(self.repo, worktree, current, tree)

    async def drop(self, run_id: int, *, after: int = -1) -> None:
        """Delete the run's checkpoints of steps after ``after`` (all of them by default)."""
        later = [c for c in await self.all(run_id) if c.step > after]
        if later:
            commands = "".join(f"delete {_prefix(run_id)}{c.step}\n" for c in later)
            await self.repo.run("update-ref", "--stdin", input=commands.encode(), audit=False)
