"""The two versions of a change: the run's base (from git) and its proposal (kept on disk).

The proposal is saved under ``.devfactory/diffs/`` when the change is proposed, because the
run may keep editing its worktree; what the user approves is what they were shown.
"""

from __future__ import annotations

from pathlib import Path

from ..workspace.repository import WorkspaceRepository


class ChangeTexts:
    """Stores and reads the before/after content and the diff of each change."""

    def __init__(self, repo: WorkspaceRepository, folder: Path) -> None:
        self.repo = repo
        self.folder = folder
        self._before: dict[int, bytes | None] = {}

    def diff_file(self, change_id: int) -> Path:
        return self.folder / f"change-{change_id}.diff"

    def _after_file(self, change_id: int) -> Path:
        return self.folder / f"change-{change_id}.after"

    async def base_content(self, base_commit: str, path: str) -> bytes | None:
        """The file at a run's base snapshot, or None when it did not exist there."""
        result = await self.repo.run(
            "cat-file", "blob", f"{base_commit}:{path}", check=False, audit=False
        )
        return result.stdout_bytes if result.ok else None

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
