"""Git for the factory: an initiative's integration branch in a worktree of its own, task
branches committed and merged into it, and merges that conflict handed to a merge task.

The integration worktree (``.devfactory/worktrees/initiative-<id>``, on ``df/<slug>``) is the
only place the factory merges; the user's checkout and index are never touched. A merge is
idempotent: a branch already contained in the integration branch is not merged again, which
is what makes a crash between "merged" and "recorded as merged" harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..safefs import FileTooLarge
from ..workspace.repository import IDENTITY, WorkspaceRepository
from ..workspace.worktrees import move_aside

log = logging.getLogger(__name__)
MERGE_OPERATION = "merge"


@dataclass(frozen=True)
class MergeOutcome:
    commit: str | None
    """The integration branch's head after the merge; None when it conflicted."""
    conflicts: list[str]
    """Files both sides changed (the merge was aborted: nothing half-merged stays)."""
    already_merged: bool = False


class IntegrationBranch:
    """One initiative's integration branch and its worktree."""

    def __init__(self, repo: WorkspaceRepository, path: Path, branch: str) -> None:
        self.repo = repo
        self.path = path
        self.branch = branch

    async def ensure(self, base_commit: str) -> None:
        """Create the branch at ``base_commit`` and check it out here (once).

        A worktree here on another branch is another database's initiative with the same id
        (the workspace changed stores; branch names are never reused): it is moved aside.
        """
        if (self.path / ".git").exists():
            current = await self.repo.out("branch", "--show-current", cwd=self.path, audit=False)
            if current == self.branch:
                return
            aside = await move_aside(self.repo, self.path)
            log.warning("%s was on %s, not %s; moved to %s", self.path, current, self.branch, aside)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        exists = await self.repo.run(
            "rev-parse", "-q", "--verify", f"refs/heads/{self.branch}", check=False, audit=False
        )
        if exists.ok:  # the worktree folder was deleted: check the branch out again
            await self.repo.add_worktree("-q", "--force", str(self.path), self.branch)
        else:
            await self.repo.add_worktree("-q", "-b", self.branch, str(self.path), base_commit)

    async def head(self) -> str:
        return await self.repo.out("rev-parse", "HEAD", cwd=self.path, audit=False)

    async def contains(self, commit: str) -> bool:
        result = await self.repo.run(
            "merge-base", "--is-ancestor", commit, "HEAD", cwd=self.path, check=False, audit=False
        )
        return result.ok

    async def merge(self, branch: str, message: str) -> MergeOutcome:
        """Merge ``branch`` (a task's) into the integration branch, or report its conflicts."""
        tip = await self.repo.out("rev-parse", branch, cwd=self.path, audit=False)
        if await self.contains(tip):
            return MergeOutcome(await self.head(), [], already_merged=True)
        result = await self.repo.run(
            "merge",
            "--no-ff",
            "--no-edit",
            "-m",
            message,
            branch,
            cwd=self.path,
            check=False,
            env=IDENTITY,
            operation=MERGE_OPERATION,
        )
        if result.ok:
            return MergeOutcome(await self.head(), [])
        conflicts = await unmerged_paths(self.repo, self.path)
        await self.repo.run("merge", "--abort", cwd=self.path, check=False, audit=False)
        if not conflicts:  # not a conflict: a real failure (disk, permissions)
            raise RuntimeError(f"merging {branch} failed: {result.stderr.strip()}")
        return MergeOutcome(None, conflicts)

    async def changed_files(self, base: str, head: str) -> list[tuple[str, str]]:
        """(status A/M/D, path) of what changed from ``base`` to ``head``."""
        listing = await self.repo.out(
            "diff", "--name-status", "--no-renames", "-z", base, head, cwd=self.path, audit=False
        )
        fields = [f for f in listing.split("\0") if f]
        return list(zip(fields[0::2], fields[1::2], strict=False))

    async def file_at(self, commit: str, path: str, limit: int) -> bytes | None:
        """A file's bytes at ``commit`` (None when it is not a file there); FileTooLarge past
        ``limit``, asked of git before anything is read: an agent's command can commit a file
        of gigabytes, which the daemon must not hold in memory to show a diff."""
        spec = f"{commit}:{path}"
        size = await self.repo.run("cat-file", "-s", spec, cwd=self.path, check=False, audit=False)
        if not size.ok:
            return None
        if (found := int(size.stdout.strip() or 0)) > limit:
            raise FileTooLarge(path, found, limit)
        result = await self.repo.run(
            "cat-file", "blob", spec, cwd=self.path, check=False, audit=False
        )
        return result.stdout_bytes if result.ok else None


async def unmerged_paths(repo: WorkspaceRepository, worktree: Path) -> list[str]:
    listing = await repo.out(
        "diff", "--name-only", "--diff-filter=U", "-z", cwd=worktree, audit=False
    )
    return sorted(p for p in listing.split("\0") if p)


async def begin_merge(repo: WorkspaceRepository, worktree: Path, branch: str) -> list[str]:
    """Start merging ``branch`` into a merge task's worktree and leave the conflicts there
    (with their markers) for the agent to resolve; returns the conflicted files."""
    await repo.run(
        "merge",
        "--no-ff",
        "--no-commit",
        branch,
        cwd=worktree,
        check=False,
        env=IDENTITY,
        operation=MERGE_OPERATION,
    )
    return await unmerged_paths(repo, worktree)
