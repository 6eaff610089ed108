"""Snapshots of a working tree as commit objects under ``refs/devfactory/snapshots/<id>``.

A snapshot records the files exactly as they are — modified, staged and untracked (not
ignored) ones included — without touching the user's index, branches, stash or files: the
tree is written from a scratch index seeded from the real one, so only changed files are
hashed. A run's snapshots of its worktree (final, pre_command) hold the agent's files before
review, so only snapshots of the workspace are restored into it. Restoring first takes a new
snapshot, so a restore is itself undoable; how it writes the files is ``restore.py``'s job.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from devfactory.protocol.enums import EventType, SnapshotOrigin, SnapshotType
from devfactory.protocol.events import ErrorPayload, SnapshotEvent
from devfactory.protocol.snapshots import Snapshot
from devfactory.storage import Store

from ..errors import InvalidState, NotFound, Refused
from ..events.bus import EventBus
from ..wording import plural
from .lock import WorkspaceLock
from .repository import SNAPSHOT_REF_PREFIX, WorkspaceRepository
from .restore import HalfRestored, RestoreRefused, put_tree

log = logging.getLogger(__name__)


class SnapshotService:
    def __init__(
        self,
        repo: WorkspaceRepository,
        store: Store,
        events: EventBus,
        project_id: int,
        protected: frozenset[str],
    ) -> None:
        self.repo = repo
        self.store = store
        self.events = events
        self.project_id = project_id
        self.protected = protected
        """The files that configure DevFactory (``safefs.protected_files``): never restored."""
        self._naming = asyncio.Lock()
        """Held from choosing a snapshot's id to storing it: the ref is named after the id,
        so two snapshots taken at once (two runs starting) must not pick the same one."""
        self.writing = WorkspaceLock(repo.paths.workspace_lock)
        """Held by whoever writes the user's files: restores here, approvals in review."""

    async def create(
        self,
        type: SnapshotType,
        description: str = "",
        *,
        run_id: int | None = None,
        worktree: Path | None = None,
    ) -> Snapshot:
        """Snapshot the workspace (or a run's ``worktree``) and record it.

        The git work a snapshot needs is what plain git would do (stage into a copy of the
        index, write the tree, commit it, name it); what the daemon needs besides (HEAD, the
        changed files, the next id) runs beside it, and the row and its event are one write.
        """
        await self.repo.ensure()
        async with self.repo.snapshot_index(worktree) as env:
            head, _ = await asyncio.gather(
                self.repo.head(worktree),
                self.repo.stage_all(env=env, cwd=worktree, operation="snapshot", run_id=run_id),
            )
            tree = await self.repo.out("write-tree", env=env, cwd=worktree, audit=False)
        return await self._record(tree, head, type, description, run_id, worktree)

    async def has_tree(self, tree: str) -> bool:
        """Whether this clone holds the tree ``tree`` and every folder and file in it."""
        listed = await self.repo.run(
            "rev-list", "--objects", "--missing=print", tree, check=False, audit=False
        )
        return listed.ok and not any(line.startswith("?") for line in listed.stdout.splitlines())

    async def of_tree(
        self, tree: str, type: SnapshotType, description: str = "", *, run_id: int | None = None
    ) -> Snapshot:
        """Record a snapshot of ``tree``, a tree this clone holds (:meth:`has_tree`), on top
        of HEAD: a snapshot taken elsewhere, made again here."""
        await self.repo.ensure()
        return await self._record(tree, await self.repo.head(), type, description, run_id, None)

    async def _record(
        self,
        tree: str,
        head: str | None,
        type: SnapshotType,
        description: str,
        run_id: int | None,
        worktree: Path | None,
    ) -> Snapshot:
        """Commit ``tree`` on ``head``, name it, store its row and its event in one write."""
        parents = ["-p", head] if head else []
        origin = SnapshotOrigin.WORKSPACE if worktree is None else SnapshotOrigin.WORKTREE
        async with self._naming:
            snapshot_id, changed = await asyncio.gather(
                self.store.snapshots.next_id(), self._changed_files(head, tree, worktree)
            )
            ref = f"{SNAPSHOT_REF_PREFIX}{snapshot_id}"
            message = f"devfactory {type.value} snapshot {snapshot_id}: {description}".strip()
            commit = await self.repo.out(
                "commit-tree", tree, *parents, "-m", message, cwd=worktree, audit=False
            )
            await self.repo.run("update-ref", ref, commit, cwd=worktree, audit=False)
            event = self.events.new_event(
                run_id,
                EventType.SNAPSHOT_CREATED,
                f"Snapshot {snapshot_id} ({type.value})",
                SnapshotEvent(snapshot_id=snapshot_id, snapshot_type=type, ref=ref),
                message=description,
            )
            written = await self.events.record(
                lambda: self.store.snapshots.create_recorded(
                    snapshot_id=snapshot_id,
                    project_id=self.project_id,
                    run_id=run_id,
                    type=type,
                    origin=origin,
                    description=description,
                    ref=ref,
                    commit_sha=commit,
                    tree_sha=tree,
                    files_changed=len(changed),
                    event=event,
                )
            )
        assert written is not None
        return written[0]

    async def get(self, snapshot_id: int) -> Snapshot:
        snapshot = await self.store.snapshots.get(snapshot_id)
        if snapshot is None or snapshot.project_id != self.project_id:
            raise NotFound("snapshot", snapshot_id)
        return snapshot

    async def restore(self, snapshot_id: int) -> tuple[Snapshot, Snapshot, list[str]]:
        """Put the workspace files back as they were in the snapshot, or change nothing.

        Returns (restored snapshot, safety snapshot taken first, paths written or deleted).
        A restore that cannot be done safely is refused before any file changes; one that
        fails half-way is rolled back to the safety snapshot. Both are reported as an event.
        """
        target = await self.get(snapshot_id)
        if target.origin is not SnapshotOrigin.WORKSPACE:
            run = "the run" if target.run_id is None else f"run {target.run_id}"
            raise Refused(
                f"snapshot {target.id} ({target.type.value}) holds the worktree of {run}: the"
                " agent's files before review, not your workspace's, so it is never restored"
                f" into the workspace. Review {run}'s proposed changes and approve the ones"
                " you want instead"
            )
        async with self.writing.hold():
            safety = await self.create(
                SnapshotType.MANUAL, f"before restoring snapshot {snapshot_id}"
            )
            try:
                files = await self._restore_tree(target.tree_sha, safety.tree_sha)
            except Exception as exc:
                if not isinstance(exc, RestoreRefused):
                    log.exception("restoring snapshot %d failed", target.id)
                if isinstance(exc, HalfRestored):
                    reason = await self._roll_back(safety, exc.failure)
                else:
                    reason = f"nothing was changed: {exc}"
                await self._restore_failed(target, reason)
                raise InvalidState(f"snapshot {target.id} was not restored; {reason}") from None
        await self.events.emit(
            target.run_id,
            EventType.SNAPSHOT_RESTORED,
            f"Restored snapshot {target.id}",
            SnapshotEvent(
                snapshot_id=target.id,
                snapshot_type=target.type,
                ref=target.ref,
                safety_snapshot_id=safety.id,
                files=files,
            ),
            message=f"{plural(len(files), 'file')} restored; snapshot {safety.id} undoes this",
        )
        return target, safety, files

    async def _restore_tree(self, target_tree: str, current_tree: str) -> list[str]:
        return await put_tree(
            self.repo, self.repo.paths.root, current_tree, target_tree, self.protected
        )

    async def _roll_back(self, safety: Snapshot, failure: BaseException) -> str:
        """Put back the safety snapshot's files after a restore failed half-way."""
        try:
            partial = await self.create(
                SnapshotType.MANUAL, f"a restore failed half-way ({failure})"
            )
            await self._restore_tree(safety.tree_sha, partial.tree_sha)
        except Exception:
            log.exception("rolling back to snapshot %d failed", safety.id)
            return (
                f"it failed half-way ({failure}) and could not be rolled back; restore"
                f" snapshot {safety.id} to get your files back as they were"
            )
        return f"it failed half-way ({failure}); your files were put back as they were"

    async def _restore_failed(self, target: Snapshot, reason: str) -> None:
        message = f"snapshot {target.id} was not restored; {reason}"
        await self.events.emit(
            target.run_id,
            EventType.ERROR,
            "Restore failed",
            ErrorPayload(message=message),
            message=message,
        )

    async def _changed_files(self, head: str | None, tree: str, worktree: Path | None) -> list[str]:
        if head is None:
            listing = await self.repo.out(
                "ls-tree", "-r", "--name-only", "-z", tree, cwd=worktree, audit=False
            )
        else:
            listing = await self.repo.out(
                "diff-tree",
                "-r",
                "--name-only",
                "--no-renames",
                "-z",
                head,
                tree,
                cwd=worktree,
                audit=False,
            )
        return [p for p in listing.split("\0") if p]
