"""One git worktree per run under ``.devfactory/worktrees/``, on ``agent/run-{id}-{slug}``.

The run writes only there; the user's files change only through approval.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ..paths import StatePaths
from ..project.files import is_build_junk
from ..project.registration import slugify
from .repository import IDENTITY, WorkspaceRepository

log = logging.getLogger(__name__)


def branch_name(run_id: int, title: str) -> str:
    return f"agent/run-{run_id}-{slugify(title, max_length=32)}"


async def move_aside(repo: WorkspaceRepository, path: Path, run_id: int | None = None) -> Path:
    """Move the worktree at ``path``, left there by another database's run or initiative with
    the same id, to ``<name>.stale-<n>``, detached so that its branch is free; its files and
    commits stay. Returns where it went."""
    n = 1
    while (aside := path.with_name(f"{path.name}.stale-{n}")).exists():
        n += 1
    await repo.run("worktree", "move", str(path), str(aside), operation="worktree", run_id=run_id)
    await repo.run("checkout", "-q", "--detach", cwd=aside, operation="worktree", run_id=run_id)
    return aside


async def commit_worktree(
    repo: WorkspaceRepository, worktree: Path, message: str, *, run_id: int | None = None
) -> str:
    """Commit everything a run left in its worktree on its branch (build junk and nested
    repositories left out, no hooks: :meth:`WorkspaceRepository.run`); returns the branch's
    head, which is unchanged when there was nothing to commit. A merge a merge task resolved
    is committed as that merge."""
    await repo.stage_all(cwd=worktree)
    added = await repo.out(
        "diff", "--cached", "--name-only", "--diff-filter=A", "-z", cwd=worktree, audit=False
    )
    junk = [p for p in added.split("\0") if p and is_build_junk(p)]
    if junk:
        await repo.run("rm", "-q", "--cached", "--", *junk, cwd=worktree, audit=False)
    merging = await repo.run(
        "rev-parse", "-q", "--verify", "MERGE_HEAD", cwd=worktree, check=False, audit=False
    )
    staged = await repo.run("diff", "--cached", "--quiet", cwd=worktree, check=False, audit=False)
    if not staged.ok or merging.ok:
        await repo.run(
            "commit",
            "-q",
            "--no-verify",
            "-m",
            message,
            cwd=worktree,
            env=IDENTITY,
            operation="commit",
            run_id=run_id,
        )
    return await repo.out("rev-parse", "HEAD", cwd=worktree, audit=False)


class WorktreeManager:
    def __init__(self, repo: WorkspaceRepository, paths: StatePaths) -> None:
        self.repo = repo
        self.paths = paths
        self._creating = asyncio.Lock()

    def path_for(self, run_id: int) -> Path:
        return self.paths.worktrees / f"run-{run_id}"

    async def create(
        self, run_id: int, branch: str, base_commit: str, owner: str | None = None
    ) -> Path:
        """Check ``base_commit`` out into the run's worktree on ``branch`` (idempotent).

        One at a time: git keeps worktree bookkeeping in shared files under ``.git/worktrees``.
        ``--force`` reclaims the name of a worktree whose folder was deleted (no ``prune``,
        which could drop a worktree another process is creating right now).

        ``owner`` tells the run from another database's run with the same id (pass its
        creation time): a workspace that moved to another store (SQLite to PostgreSQL, a
        deleted database) keeps the old runs' worktrees, and the new run 1 must not start in
        the old run 1's work. Such a leftover is moved aside, its files kept.
        """
        path = self.path_for(run_id)
        async with self._creating:
            if (path / ".git").exists():
                found = self._owner_file(run_id)
                recorded = found.read_text() if found.exists() else None
                if owner is None or recorded in (None, owner):  # None: made before owners
                    return path
                await self._move_aside(run_id, recorded)
            path.parent.mkdir(parents=True, exist_ok=True)
            await self.repo.add_worktree(
                "-q", "--force", "-B", branch, str(path), base_commit, run_id=run_id
            )
            if owner is not None:
                self._owner_file(run_id).write_text(owner)
        return path

    def _owner_file(self, run_id: int) -> Path:
        return self.paths.worktrees / f".run-{run_id}.owner"

    async def _move_aside(self, run_id: int, recorded: str) -> None:
        path = self.path_for(run_id)
        aside = await move_aside(self.repo, path, run_id=run_id)
        log.warning("run %d: %s belonged to another run (%s); moved to %s", run_id, path,
                    recorded, aside)  # fmt: skip
        self._owner_file(run_id).unlink()

    async def changed_paths(self, run_id: int, base_commit: str) -> dict[str, str]:
        """Files of the run's worktree that differ from ``base_commit``: path -> A/M/D.

        Stages everything in the worktree's own index (ours, not the user's) to include new
        files, then compares with the base. New build output (``__pycache__``, ``*.pyc``,
        ``node_modules``...) is left out: the run's commands made it, nobody asked for it.
        """
        path = self.path_for(run_id)
        for nested in await self.repo.stage_all(cwd=path):
            log.warning("run %d: %s/ is a git repository of its own; left out", run_id, nested)
        listing = await self.repo.out(
            "diff",
            "--cached",
            "--name-status",
            "--no-renames",
            "-z",
            base_commit,
            cwd=path,
            operation="diff",
            run_id=run_id,
        )
        fields = [f for f in listing.split("\0") if f]
        return {
            p: s
            for s, p in zip(fields[0::2], fields[1::2], strict=False)
            if not (s == "A" and is_build_junk(p))
        }

    async def line_counts(self, run_id: int, base_commit: str, paths: set[str]) -> tuple[int, int]:
        """(insertions, deletions) in ``paths`` of the worktree's staged state against
        ``base_commit``. Call after :meth:`changed_paths`, which stages everything; binary
        files count 0."""
        listing = await self.repo.out(
            "diff",
            "--cached",
            "--numstat",
            "--no-renames",
            "-z",
            base_commit,
            cwd=self.path_for(run_id),
            audit=False,
        )
        insertions = deletions = 0
        for entry in listing.split("\0"):
            added, removed, path = [*entry.split("\t", 2), "", ""][:3]
            if path in paths:
                insertions += int(added) if added.isdigit() else 0
                deletions += int(removed) if removed.isdigit() else 0
        return insertions, deletions
