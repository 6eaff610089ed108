"""The git repository behind a workspace.

A workspace that is a git repository uses its own (we only ever write private refs and
worktrees into it). One that is not gets a repository of its own under
``.devfactory/repo.git`` with the workspace as its work tree, so snapshots and worktrees work
the same way everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from ..git.runner import AuditHook, GitError, GitResult, GitRunner
from ..paths import STATE_DIR_NAME, StatePaths

SNAPSHOT_REF_PREFIX = "refs/devfactory/snapshots/"
_NO_COMMIT = re.compile(r"^error: '(.+)/' does not have a commit checked out$", re.M)
"""How ``git add`` names a nested repository it cannot add (one without commits)."""
MAX_NESTED_REPOSITORIES = 100
IDENTITY = {
    "GIT_AUTHOR_NAME": "DevFactory",
    "GIT_AUTHOR_EMAIL": "devfactory@localhost",
    "GIT_COMMITTER_NAME": "DevFactory",
    "GIT_COMMITTER_EMAIL": "devfactory@localhost",
}


class WorkspaceRepository:
    """Runs git against the workspace's repository (its own, or our private one)."""

    def __init__(self, paths: StatePaths, *, private: bool, audit: AuditHook | None) -> None:
        self.paths = paths
        self.private = private
        self._env: dict[str, str] = dict(IDENTITY)
        if private:
            self._env |= {"GIT_DIR": str(paths.private_git_dir), "GIT_WORK_TREE": str(paths.root)}
        self.git = GitRunner(paths.root, on_finished=audit)
        self._private_index = asyncio.Lock()
        """Our private repository's index is shared by every snapshot: one at a time."""
        self._index_paths: dict[Path | None, Path] = {}
        """Where the index of the workspace (None) and of each run's worktree is: asked once."""

    async def ensure(self) -> None:
        """Create the private repository on first use."""
        if not self.private:
            return
        async with self._private_index:
            if (self.paths.private_git_dir / "HEAD").exists():
                return
            await self.run("init", "-q", "-b", "main", operation="init")
            exclude = self.paths.private_git_dir / "info" / "exclude"
            exclude.parent.mkdir(parents=True, exist_ok=True)
            exclude.write_text(f"/{STATE_DIR_NAME}/\n.git/\n")

    async def run(
        self,
        *args: str,
        operation: str | None = None,
        run_id: int | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        cwd: Path | None = None,
        audit: bool = True,
    ) -> GitResult:
        merged = {**self._env, **(env or {})}
        runner = self.git if cwd is None else GitRunner(cwd, on_finished=self.git.on_finished)
        if cwd is not None:
            # A worktree finds its repository through its own .git file.
            merged.pop("GIT_DIR", None)
            merged.pop("GIT_WORK_TREE", None)
        return await runner.run(
            *args,
            operation=operation,
            run_id=run_id,
            check=check,
            env=merged,
            input=input,
            audit=audit,
        )

    async def out(self, *args: str, **kwargs: object) -> str:
        result = await self.run(*args, **kwargs)  # type: ignore[arg-type]
        return result.stdout.strip()

    async def stage_all(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        operation: str | None = None,
        run_id: int | None = None,
    ) -> list[str]:
        """``git add -A`` of the whole tree; returns the nested repositories it left out.

        A folder holding a repository of its own without a commit (a command's ``git init``)
        makes ``git add -A`` fail outright; such folders are excluded and named, so one stray
        ``git init`` cannot break every later snapshot. Nested repositories with commits are
        staged by git as gitlinks, which review refuses to propose.
        """
        excluded: list[str] = []
        while True:
            pathspec = [".", *(f":(exclude,literal){path}" for path in excluded)]
            result = await self.run(
                "add",
                "-A",
                "--",
                *pathspec,
                env=env,
                cwd=cwd,
                operation=operation,
                run_id=run_id,
                check=False,
                audit=operation is not None,
            )
            nested = _NO_COMMIT.findall(result.stderr)
            if result.ok or not nested or len(excluded) >= MAX_NESTED_REPOSITORIES:
                break
            excluded.extend(path for path in nested if path not in excluded)
        if not result.ok:
            raise GitError(result, cwd or self.paths.root)
        return excluded

    async def tree_of(
        self, cwd: Path | None = None, *, operation: str, run_id: int | None = None
    ) -> str:
        """The tree object of the files as they are now (modified, staged and untracked ones,
        not ignored ones), written without touching anyone's index."""
        async with self.snapshot_index(cwd) as env:
            await self.stage_all(env=env, cwd=cwd, operation=operation, run_id=run_id)
            return await self.out("write-tree", env=env, cwd=cwd, audit=False)

    async def head(self, cwd: Path | None = None) -> str | None:
        """The commit HEAD points at, or None in a repository without commits."""
        result = await self.run(
            "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False, cwd=cwd, audit=False
        )
        return result.stdout.strip() if result.ok else None

    async def index_path(self, cwd: Path | None = None) -> Path:
        """The index file of the workspace's repository, or of the worktree at ``cwd``."""
        known = self._index_paths.get(cwd)
        if known is not None and known.parent.is_dir():  # a worktree made again may move
            return known
        rel = await self.out("rev-parse", "--git-path", "index", cwd=cwd, audit=False)
        path = Path(rel) if Path(rel).is_absolute() else (cwd or self.paths.root) / rel
        self._index_paths[cwd] = path
        return path

    @contextlib.asynccontextmanager
    async def snapshot_index(self, cwd: Path | None = None) -> AsyncIterator[dict[str, str]]:
        """An index to write a snapshot tree with; yields the environment pointing git at it.

        For the user's repository: a scratch copy of their index (so unchanged files are not
        re-hashed), never their index itself. Our private repository's index is ours: it is
        used directly, which keeps it warm for the next snapshot.
        """
        if self.private and cwd is None:
            async with self._private_index:
                yield {}
            return
        async with self.scratch_index(seed=await self.index_path(cwd)) as env:
            yield env

    @contextlib.asynccontextmanager
    async def scratch_index(self, seed: Path | None = None) -> AsyncIterator[dict[str, str]]:
        """A temporary index file (a copy of ``seed`` when given), deleted afterwards.

        The copy keeps the seed's modification time: git trusts an entry whose stat matches
        the file unless the entry is as new as the index file itself, so a copy dated now
        would hide a same-size write made in the second the seed was written."""
        handle, scratch = tempfile.mkstemp(prefix="devfactory-index-", dir=self.paths.state)
        os.close(handle)
        try:
            if seed is not None and seed.exists():
                shutil.copy2(seed, scratch)
            else:
                os.unlink(scratch)
            yield {"GIT_INDEX_FILE": scratch}
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(scratch)
