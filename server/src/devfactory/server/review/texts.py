"""The two versions of a change: the run's base (from git) and its proposal (kept on disk).

The proposal is saved under ``.devfactory/diffs/`` when the change is proposed, because the
run may keep editing its worktree; what the user approves is what they were shown. On a
team's database both versions and the diff are stored with the change too (a stored patch),
and read from there first: a worker's change is reviewed and approved on the user's machine,
which has neither the worker's base commit nor its diffs folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devfactory.storage.ports import PatchRepository

from ..workspace.repository import WorkspaceRepository

MAX_REVIEW_BYTES = 8 * 1024 * 1024
"""Larger files are not proposed ("too large to review"), and never read whole."""
LINK_MODE = "120000"
GITLINK_MODE = "160000"


@dataclass(frozen=True)
class BaseEntry:
    """What a path is in a run's base commit, read before its content."""

    mode: str
    """git's mode: 100644 / 100755 (a file), 120000 (a symbolic link), 160000 (a submodule),
    040000 (a folder)."""
    size: int
    """Bytes of a blob; -1 for a submodule or folder."""

    @property
    def is_file(self) -> bool:
        return self.mode.startswith("100")


class ChangeTexts:
    """Stores and reads the before/after content and the diff of each change."""

    def __init__(
        self, repo: WorkspaceRepository, folder: Path, patches: PatchRepository | None = None
    ) -> None:
        self.repo = repo
        self.folder = folder
        self.patches = patches
        """Stored patches (a team's database), else None: the versions stay in ``folder``."""
        self._before: dict[int, bytes | None] = {}

    def diff_file(self, change_id: int) -> Path:
        return self.folder / f"change-{change_id}.diff"

    def _after_file(self, change_id: int) -> Path:
        return self.folder / f"change-{change_id}.after"

    async def base_entry(self, base_commit: str, path: str) -> BaseEntry | None:
        """What ``path`` is at a run's base snapshot, or None when nothing was there."""
        result = await self.repo.run(
            "ls-tree",
            "-l",
            "-z",
            "--full-tree",
            base_commit,
            "--",
            path,
            check=False,
            audit=False,
            env={"GIT_LITERAL_PATHSPECS": "1"},
        )
        for record in result.stdout_bytes.split(b"\0"):
            meta, _, name = record.partition(b"\t")
            if name.decode("utf-8", "surrogateescape") == path:
                mode, _, _, size = meta.decode().split()
                return BaseEntry(mode=mode, size=int(size) if size.isdigit() else -1)
        return None

    async def base_content(self, base_commit: str, path: str) -> bytes | None:
        """The file at a run's base snapshot, or None when it did not exist there."""
        result = await self.repo.run(
            "cat-file", "blob", f"{base_commit}:{path}", check=False, audit=False
        )
        return result.stdout_bytes if result.ok else None

    async def keep(
        self, change_id: int, before: bytes | None, after: bytes | None, diff: str
    ) -> None:
        """Keep what the change proposes: on disk, and as a stored patch where there are."""
        self.save(change_id, before, after, diff)
        if self.patches is not None:
            await self.patches.save(change_id, before, after, diff)

    async def kept(self, change_id: int) -> bool:
        """Whether the change's texts are where approvers read them: the stored patch where
        there are stored patches, else this machine's files."""
        if self.patches is not None:
            return await self.patches.has(change_id)
        return self.diff_file(change_id).exists()

    async def versions(
        self, change_id: int, base_commit: str, path: str
    ) -> tuple[bytes | None, bytes | None]:
        """(base, proposal): the stored patch's, else this machine's."""
        if self.patches is not None and (stored := await self.patches.get(change_id)):
            return stored[0], stored[1]
        return await self.before(change_id, base_commit, path), self.after(change_id)

    async def local_diff_file(self, change_id: int) -> Path:
        """The diff as a file of this machine, for the editor to open (written from the
        stored patch when the change was proposed elsewhere)."""
        path = self.diff_file(change_id)
        if not path.exists() and self.patches is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_text(await self.diff_text(change_id), encoding="utf-8")
        return path

    async def diff_text(self, change_id: int) -> str:
        if self.patches is not None and (stored := await self.patches.get(change_id)):
            return stored[2]
        return self.diff(change_id)

    def save(self, change_id: int, before: bytes | None, after: bytes | None, diff: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.diff_file(change_id).write_text(diff, encoding="utf-8")
        after_file = self._after_file(change_id)
        if after is None:
            after_file.unlink(missing_ok=True)
        else:
            after_file.write_bytes(after)
        self._before[change_id] = before

    async def before(self, change_id: int, base_commit: str, path: str) -> bytes | None:
        if change_id not in self._before:
            self._before[change_id] = await self.base_content(base_commit, path)
        return self._before[change_id]

    def after(self, change_id: int) -> bytes | None:
        try:
            return self._after_file(change_id).read_bytes()
        except FileNotFoundError:
            return None

    def diff(self, change_id: int) -> str:
        try:
            return self.diff_file(change_id).read_text("utf-8")
        except FileNotFoundError:
            return ""
