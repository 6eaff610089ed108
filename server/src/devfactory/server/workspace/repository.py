"""The git repository behind a workspace.

A workspace that is a git repository uses its own (we only ever write private refs and
worktrees into it). One that is not, or is only a folder inside one, gets a repository of its
own under ``.devfactory/repo.git`` with the workspace as its work tree, so snapshots and
worktrees work the same way everywhere, and a run's changes are the workspace's paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from ..git.ignore import literal_pattern
from ..git.runner import AuditHook, GitError, GitResult, GitRunner
from ..paths import STATE_DIR_NAME, StatePaths

SNAPSHOT_REF_PREFIX = "refs/devfactory/snapshots/"
GITLINK_MODE = "160000"
IN_WORKTREE = {
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "core.hooksPath",
    "GIT_CONFIG_VALUE_0": "/dev/null",
    "GIT_CONFIG_KEY_1": "core.fsmonitor",
    "GIT_CONFIG_VALUE_1": "false",
}
"""Git's settings in a worktree the agent wrote, and while adding one: none of the user's
hooks runs on its files (the pre-commit framework would run the commands of the worktree's
own config, outside the sandbox), and no fsmonitor, in git or in any git it starts."""
IDENTITY = {
    "GIT_AUTHOR_NAME": "DevFactory",
    "GIT_AUTHOR_EMAIL": "devfactory@localhost",
    "GIT_COMMITTER_NAME": "DevFactory",
    "GIT_COMMITTER_EMAIL": "devfactory@localhost",
}


class WorkspaceRepository:
    """Runs git against the workspace's repository (its own, or our private one)."""

    def __init__(
        self,
        paths: StatePaths,
        *,
        private: bool,
        audit: AuditHook | None,
        outer: GitRunner | None = None,
    ) -> None:
        self.paths = paths
        self.private = private
        self._outer = outer
        """git in the repository the workspace is a folder of, whose ignore rules ours
        follows (None: the workspace is no repository's folder)."""
        self._env: dict[str, str] = dict(IDENTITY)
        if private:
            self._env |= {"GIT_DIR": str(paths.private_git_dir), "GIT_WORK_TREE": str(paths.root)}
        self.git = GitRunner(paths.root, on_finished=audit)
        self._private_index = asyncio.Lock()
        """Our private repository's index is shared by every snapshot: one at a time."""
        self._common: Path | None = None
        self._worktree_git_dirs: dict[str, Path] = {}
        """Each worktree's administrative folder, by the worktree's real path."""
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
            self._write_exclude([])

    def _write_exclude(self, more: list[str]) -> None:
        """Our private repository's ignore list: the state folder, any ``.git``, and ``more``
        (written whole and renamed into place: a worktree's git may be reading it)."""
        exclude = self.paths.private_git_dir / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join([f"/{STATE_DIR_NAME}/", ".git/", *more, ""])
        handle, scratch = tempfile.mkstemp(prefix=".exclude-", dir=exclude.parent)
        with os.fdopen(handle, "w", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)
        os.replace(scratch, exclude)

    async def _follow_outer_ignores(self) -> None:
        """Ignore in our private repository what the enclosing repository ignores in the
        workspace folder: its ``.gitignore`` files above the folder, its ``info/exclude`` and
        the user's global excludes (a monorepo's top-level ``node_modules/`` or ``*.pyc``),
        which our repository, rooted at the folder, cannot read. Asked before each snapshot of
        the workspace, so a file ignored since is left out of the next one."""
        if self._outer is None:
            return
        found = await self._outer.run(
            "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory",
            audit=False,
        )  # fmt: skip
        listed = found.stdout_bytes.decode("utf-8", "surrogateescape").split("\0")
        self._write_exclude(sorted({p for path in listed if path and (p := literal_pattern(path))}))

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
            git_dir = await self.worktree_git_dir(cwd)
            merged |= {"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(cwd), **IN_WORKTREE}
        return await runner.run(
            *args,
            operation=operation,
            run_id=run_id,
            check=check,
            env=merged,
            input=input,
            audit=audit,
        )

    async def worktree_git_dir(self, worktree: Path) -> Path:
        """The administrative folder of the worktree at ``worktree``, found from the
        repository's side (its ``worktrees/*/gitdir`` files), never through the worktree's own
        ``.git`` file: a command can rewrite that to point git at a repository whose config it
        wrote (``core.fsmonitor``), which the daemon's git would then run as the user."""
        common = await self._common_dir()
        where = os.path.realpath(worktree)
        known = self._worktree_git_dirs.get(where)
        for admin in ([known] if known else []) + sorted((common / "worktrees").glob("*")):
            try:
                pointer = (admin / "gitdir").read_text().strip()
            except OSError:
                continue
            if os.path.realpath(os.path.dirname(pointer)) == where:
                self._worktree_git_dirs[where] = admin
                return admin
        raise GitError(
            GitResult(
                ["worktree", "list"], 128, b"", f"{worktree} is not one of its worktrees", 0.0
            ),
            worktree,
        )

    async def _common_dir(self) -> Path:
        """The repository's own folder (``.git``, or our private repository)."""
        if self._common is None:
            if self.private:
                self._common = self.paths.private_git_dir
            else:
                found = Path(await self.out("rev-parse", "--git-common-dir", audit=False))
                self._common = found if found.is_absolute() else self.paths.root / found
        return self._common

    async def add_worktree(self, *args: str, run_id: int | None = None) -> GitResult:
        """``git worktree add args...`` with none of the user's hooks. The checkout runs the
        ``post-checkout`` hook inside the new worktree, whose files may be an agent's (a
        factory task's worktree starts from the merged work of the tasks before it), and hook
        managers (pre-commit, lefthook, husky) run what that tree configures, unsandboxed."""
        return await self.run(
            "worktree", "add", *args, env=IN_WORKTREE, operation="worktree", run_id=run_id
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
        """``git add -A`` of the whole tree but its nested repositories; returns the untracked
        ones (a run's command made them: its work there is not proposed).

        Git never enters a nested repository on our behalf: its config is whoever wrote it, a
        run's command as easily as the user. Once such a folder is a gitlink in the index, each
        ``git add`` asks the nested repository whether it changed (a ``git status`` inside it),
        which runs its ``core.fsmonitor`` or clean filters as the user, outside the sandbox. So
        nested repositories are left out of the add, and so are the gitlinks already in the
        index (a project's submodules), which git would ask the same way.
        """
        if cwd is None:
            await self._follow_outer_ignores()
        untracked, gitlinks = await asyncio.gather(
            self._untracked_repositories(env, cwd), self._gitlinks(env, cwd)
        )
        left_out = sorted(untracked | gitlinks)
        pathspec = "\0".join([".", *(f":(exclude,literal){path}" for path in left_out)])
        await self.run(
            "add",
            "-A",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            input=pathspec.encode("utf-8", "surrogateescape"),
            env=env,
            cwd=cwd,
            operation=operation,
            run_id=run_id,
            audit=operation is not None,
        )
        return sorted(untracked)

    async def _untracked_repositories(
        self, env: Mapping[str, str] | None, cwd: Path | None
    ) -> set[str]:
        """Untracked folders holding a repository of their own (a ``.git`` folder or file):
        git lists them as ``folder/`` without looking inside, config included."""
        listing = await self._listing(env, cwd, "--others", "--exclude-standard")
        return {entry.rstrip("/") for entry in listing if entry.endswith("/")}

    async def _gitlinks(self, env: Mapping[str, str] | None, cwd: Path | None) -> set[str]:
        """The index's gitlinks (submodules, or nested repositories staged before)."""
        listing = await self._listing(env, cwd, "--stage")
        return {
            entry.split("\t", 1)[1] for entry in listing if entry.startswith(f"{GITLINK_MODE} ")
        }

    async def _listing(
        self, env: Mapping[str, str] | None, cwd: Path | None, *args: str
    ) -> list[str]:
        found = await self.run("ls-files", "-z", *args, env=env, cwd=cwd, audit=False)
        return [e for e in found.stdout_bytes.decode("utf-8", "surrogateescape").split("\0") if e]

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
