"""``ReviewService``: proposed changes, hunk-level decisions, and applying them safely.

A change compares one file of a run's worktree with the run's base snapshot. A proposal reads
the worktree's file through ``safefs.SafeTree``, without following links and up to
``MAX_REVIEW_BYTES``: a link, a pipe or a huge file is reported and not proposed. Approving
applies the chosen hunks to the user's file (``applying.Applier``) behind a ``pre_apply``
snapshot that makes every apply undoable with one restore. Decisions hold the workspace lock:
two approvals of one run apply it once, and the second finds the changes decided.
"""

from __future__ import annotations

import contextlib
import logging
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from devfactory.protocol.changes import (
    Change,
    ChangeDecisionParams,
    ChangeDecisionResult,
    ChangeDiff,
    ChangeProposedNotification,
    ChangesListParams,
)
from devfactory.protocol.enums import (
    ChangeAction,
    ChangeStatus,
    EventType,
    ExecutionMode,
    Severity,
    SnapshotType,
)
from devfactory.protocol.events import ChangeEvent, ErrorPayload
from devfactory.protocol.methods import Notifications
from devfactory.protocol.runs import Run

from ..errors import InvalidParams, InvalidState, NotFound
from ..safefs import FileTooLarge, PathRefused, SafeTree, protected_files, shown
from ..wording import plural
from . import changelog
from . import hunks as hunkmath
from .applying import Applier, ApplyOutcome
from .changelog import CHANGELOG
from .editor import Editor
from .feedback import Feedback
from .files import as_text, is_binary, sha256
from .following import TextFollower
from .texts import GITLINK_MODE, LINK_MODE, MAX_REVIEW_BYTES, ChangeTexts

if TYPE_CHECKING:
    from devfactory.storage import Store

    from ..app import DevFactoryServer
    from ..services import Services

log = logging.getLogger(__name__)

INLINE_DIFF_LIMIT = 64 * 1024
OPEN = ChangeStatus.PROPOSED


class ReviewService:
    def __init__(
        self, *, server: DevFactoryServer, services: Services, texts: ChangeTexts, editor: Editor
    ) -> None:
        self.server = server
        self.services = services
        self.texts = texts
        self.editor = editor
        self.feedback = Feedback(self)
        self.following = TextFollower(self)
        self.protected = protected_files(services.root, services.settings)
        """The files that configure DevFactory: never proposed, never applied."""
        self.tree = SafeTree(services.root, self.protected)
        """The user's workspace, as approvals write it."""
        self.applier = Applier(
            self.tree, services.root, editor, self.contents, {CHANGELOG: changelog.merge}
        )

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def root(self) -> Path:
        return self.services.root

    # -- proposing -----------------------------------------------------------------------------

    async def propose(self, run: Run, path: str) -> Change | None:
        """(Re)compute the change of ``path`` in the run's worktree against its base."""
        if run.base_snapshot_id is None or run.worktree_path is None:
            return None
        base = await self.services.snapshots.get(run.base_snapshot_id)  # type: ignore[union-attr]
        existing = await self.store.changes.list(self.services.project.id, run_id=run.id, path=path)
        open_change = next(
            (c for c in existing if c.status in (OPEN, ChangeStatus.CONFLICT, ChangeStatus.STALE)),
            None,
        )
        try:
            before, after = await self._versions(run, base.commit_sha, path)
        except (PathRefused, FileTooLarge) as exc:
            await self.not_proposed(run, open_change, str(exc))
            return None
        if (
            open_change is not None
            and open_change.status is OPEN
            and open_change.after_hash == sha256(after)
        ):
            return open_change  # already proposed as it is
        if before == after:
            if open_change is not None:  # the run reverted its own edit
                await self._set_status(
                    open_change, ChangeStatus.STALE, "the run reverted this change"
                )
            return None
        action = (
            ChangeAction.CREATE
            if before is None
            else ChangeAction.DELETE
            if after is None
            else ChangeAction.UPDATE
        )
        binary = is_binary(before) or is_binary(after)
        before_text, after_text = as_text(before), as_text(after)
        diff = (
            f"Binary file {path} differs\n"
            if binary
            else hunkmath.unified_diff(
                before_text,
                after_text,
                path,
                created=action is ChangeAction.CREATE,
                deleted=action is ChangeAction.DELETE,
            )
        )
        hunk_list = [] if binary else hunkmath.compute_hunks(before_text, after_text)
        event = await self.services.events.emit(  # type: ignore[union-attr]
            run.id,
            EventType.CHANGE_PROPOSED,
            f"Proposed {action.value} of {path}",
            ChangeEvent(change_id=0, path=path, action=action, hunks=[h.index for h in hunk_list]),
            message=plural(len(hunk_list), "hunk"),
        )
        change = await self.store.changes.upsert(
            project_id=self.services.project.id,
            run_id=run.id,
            path=path,
            action=action,
            before_hash=sha256(before),
            after_hash=sha256(after),
            diff=diff if len(diff) <= INLINE_DIFF_LIMIT else None,
            diff_path=None,
            hunks=hunk_list,
            event_id=event.id,
        )
        self.texts.save(change.id, before, after, diff)
        change = await self.store.changes.set_diff_path(
            change.id, str(self.texts.diff_file(change.id))
        )
        self.server.send(Notifications.CHANGE_PROPOSED, ChangeProposedNotification(change=change))
        await self.refresh_diagnostics(path)
        return change

    async def _versions(
        self, run: Run, base_commit: str, path: str
    ) -> tuple[bytes | None, bytes | None]:
        """(base, worktree) bytes of a regular file; a missing or folder side is None."""
        worktree = self.worktree(run)
        worktree.check(path)
        before = None
        entry = await self.texts.base_entry(base_commit, path)
        if entry is not None and entry.mode in (LINK_MODE, GITLINK_MODE):
            kind = "symbolic link" if entry.mode == LINK_MODE else "submodule"
            raise PathRefused(f"{shown(path)} is a {kind}; DevFactory reviews regular files only")
        if entry is not None and entry.is_file:
            if entry.size > MAX_REVIEW_BYTES:
                raise FileTooLarge(path, entry.size, MAX_REVIEW_BYTES)
            before = await self.texts.base_content(base_commit, path)
        info = worktree.lstat(path)
        if info is None or stat.S_ISDIR(info.st_mode):
            return before, None
        return before, worktree.read(path, MAX_REVIEW_BYTES)

    def worktree(self, run: Run) -> SafeTree:
        """The run's worktree, as proposals read it."""
        return SafeTree(Path(run.worktree_path or ""), self.protected)

    async def not_proposed(self, run: Run, open_change: Change | None, reason: str) -> None:
        """Tell the user why a file the run changed is not offered for review."""
        message = f"not proposed: {reason}; the file stays in the run's worktree"
        await self.services.events.emit(  # type: ignore[union-attr]
            run.id,
            EventType.ERROR,
            "Change not proposed",
            ErrorPayload(message=message),
            severity=Severity.WARNING,
            message=message,
        )
        if open_change is not None and open_change.status is not ChangeStatus.STALE:
            await self._set_status(open_change, ChangeStatus.STALE, message)

    async def supersede_proposed(self, run: Run, reason: str) -> None:
        """The run goes back to work: what it proposed so far is stale (its next finish
        proposes the worktree afresh)."""
        for change in await self.store.changes.list(
            run.project_id, run_id=run.id, status=ChangeStatus.PROPOSED
        ):
            await self.store.changes.set_status(change.id, ChangeStatus.STALE, reason=reason)
            await self.refresh_diagnostics(change.path)

    async def run_finishing(self, run: Run, summary: str, files: list[str]) -> None:
        """Before the run is marked completed: propose its CHANGELOG_AI.md entry."""
        await self.feedback.propose_changelog(run, summary, files)

    async def run_completed(self, run: Run) -> None:
        """In yolo mode, apply everything as the run completes (behind a pre_apply snapshot)."""
        if run.mode is ExecutionMode.YOLO:
            with contextlib.suppress(InvalidState):  # the user decided every change already
                await self.approve(ChangeDecisionParams(run_id=run.id))

    # -- reading -------------------------------------------------------------------------------

    async def get(self, change_id: int) -> Change:
        change = await self.store.changes.get(change_id)
        if change is None or change.project_id != self.services.project.id:
            raise NotFound("change", change_id)
        return change

    async def list_changes(self, params: ChangesListParams) -> list[Change]:
        return await self.store.changes.list(
            self.services.project.id, run_id=params.run_id, path=params.path, status=params.status
        )

    async def contents(self, change: Change) -> tuple[bytes | None, bytes | None]:
        run = await self.services.runs.get(change.run_id)  # type: ignore[union-attr]
        base = await self.services.snapshots.get(run.base_snapshot_id)  # type: ignore[union-attr,arg-type]
        before = await self.texts.before(change.id, base.commit_sha, change.path)
        return before, self.texts.after(change.id)

    async def diff(self, change_id: int) -> ChangeDiff:
        change = await self.get(change_id)
        before, after = await self.contents(change)
        return ChangeDiff(
            change=change,
            diff=self.texts.diff(change.id),
            before=None if before is None else as_text(before),
            after=None if after is None else as_text(after),
        )

    # -- deciding ------------------------------------------------------------------------------

    async def _targets(self, params: ChangeDecisionParams) -> list[Change]:
        if (params.change_ids is None) == (params.run_id is None):
            raise InvalidParams("name the changes with either changeIds or runId (exactly one)")
        if params.run_id is not None:
            await self.services.runs.get(params.run_id)  # type: ignore[union-attr]
            every = await self.store.changes.list(self.services.project.id, run_id=params.run_id)
            changes = [c for c in every if c.status in (OPEN, ChangeStatus.CONFLICT)]
            if every and not changes:
                raise InvalidState(
                    f"run {params.run_id} has no open changes: all {len(every)} are decided"
                )
        else:
            changes = [await self.get(i) for i in params.change_ids or []]
        if params.hunks is not None:
            if len(changes) != 1:
                raise InvalidParams("hunks narrows a single change: pass exactly one change id")
            known = {h.index for h in changes[0].hunks}
            unknown = sorted(set(params.hunks) - known)
            if unknown:
                raise InvalidParams(
                    f"change {changes[0].id} has no hunk {unknown[0]}; it has {sorted(known)}"
                )
        for change in changes:
            if change.status not in (OPEN, ChangeStatus.CONFLICT):
                raise InvalidState(f"change {change.id} is already {change.status.value}")
        return changes

    def deciding(self) -> contextlib.AbstractAsyncContextManager[None]:
        """One decision at a time per workspace, across daemons; targets are read inside."""
        assert self.services.snapshots is not None
        return self.services.snapshots.writing.hold()

    async def reject(self, params: ChangeDecisionParams) -> ChangeDecisionResult:
        async with self.deciding():
            return await self._reject(params)

    async def _reject(self, params: ChangeDecisionParams) -> ChangeDecisionResult:
        changes = await self._targets(params)
        result = []
        for change in changes:
            chosen = self._chosen(change, params.hunks)
            hunk_list = [
                h
                if h.index not in chosen or h.status is not OPEN
                else hunkmath.with_status(h, ChangeStatus.REJECTED)
                for h in change.hunks
            ]
            status = hunkmath.decided(hunk_list) if hunk_list else ChangeStatus.REJECTED
            updated = await self.store.changes.set_status(
                change.id, status or change.status, reason=params.comment, hunks=hunk_list
            )
            await self.event(EventType.CHANGE_REJECTED, updated, sorted(chosen), params.comment)
            result.append(updated)
        await self._refresh_paths(c.path for c in changes)
        return ChangeDecisionResult(changes=result)

    async def approve(self, params: ChangeDecisionParams) -> ChangeDecisionResult:
        async with self.deciding():
            return await self._approve(params)

    async def _approve(self, params: ChangeDecisionParams) -> ChangeDecisionResult:
        changes = await self._targets(params)
        if not changes:
            return ChangeDecisionResult(changes=[])
        snapshots = self.services.snapshots
        assert snapshots is not None
        run_ids = sorted({c.run_id for c in changes})
        pre_apply = await snapshots.create(
            SnapshotType.PRE_APPLY,
            f"before applying changes of run {', '.join(map(str, run_ids))}",
            run_id=run_ids[0] if len(run_ids) == 1 else None,
        )
        result: list[Change] = []
        applied: list[int] = []
        conflicts: list[int] = []
        for change in changes:
            chosen = self._chosen(change, params.hunks)
            await self.event(EventType.CHANGE_APPROVED, change, sorted(chosen), params.comment)
            try:
                outcome = await self.applier.apply(change, chosen)
            except (PathRefused, FileTooLarge) as exc:
                outcome = ApplyOutcome(ChangeStatus.CONFLICT, f"refused: {exc}")
            except Exception as exc:  # never leave a change half-decided without a reason
                log.exception("applying change %d failed", change.id)
                outcome = ApplyOutcome(ChangeStatus.CONFLICT, f"could not apply: {exc}")
            updated = await self._record_outcome(change, chosen, outcome)
            (
                applied
                if outcome.status is ChangeStatus.APPLIED
                else conflicts
                if outcome.status is ChangeStatus.CONFLICT
                else []
            ).append(updated.id)
            result.append(updated)
        if applied:
            await snapshots.create(
                SnapshotType.FINAL,
                f"after applying changes {', '.join(map(str, applied))}",
                run_id=run_ids[0] if len(run_ids) == 1 else None,
            )
        await self._refresh_paths(c.path for c in changes)
        return ChangeDecisionResult(
            changes=result, applied=applied, conflicts=conflicts, snapshot_id=pre_apply.id
        )

    @staticmethod
    def _chosen(change: Change, hunks: list[int] | None) -> set[int]:
        open_hunks = {h.index for h in change.hunks if h.status is OPEN}
        return open_hunks if hunks is None else set(hunks) & open_hunks

    async def _record_outcome(
        self, change: Change, chosen: set[int], outcome: ApplyOutcome
    ) -> Change:
        if outcome.status is ChangeStatus.APPLIED:
            hunk_list = [
                hunkmath.with_status(h, ChangeStatus.APPLIED) if h.index in chosen else h
                for h in change.hunks
            ]
            status = hunkmath.decided(hunk_list) if hunk_list else ChangeStatus.APPLIED
            updated = await self.store.changes.set_status(
                change.id, status or OPEN, hunks=hunk_list
            )
            await self.event(EventType.CHANGE_APPLIED, updated, sorted(chosen), None)
        else:
            updated = await self.store.changes.set_status(
                change.id, outcome.status, reason=outcome.reason
            )
            if outcome.status is ChangeStatus.CONFLICT:
                await self.event(EventType.CHANGE_CONFLICT, updated, sorted(chosen), outcome.reason)
        return updated

    async def _set_status(self, change: Change, status: ChangeStatus, reason: str) -> Change:
        updated = await self.store.changes.set_status(change.id, status, reason=reason)
        await self.refresh_diagnostics(change.path)
        return updated

    async def event(
        self, type: EventType, change: Change, hunk_ids: list[int], reason: str | None
    ) -> None:
        verb = type.value.removeprefix("change_")
        await self.services.events.emit(  # type: ignore[union-attr]
            change.run_id,
            type,
            f"Change {change.id} {verb}: {change.path}",
            ChangeEvent(
                change_id=change.id,
                path=change.path,
                action=change.action,
                hunks=hunk_ids or None,
                reason=reason,
            ),
            message=reason or "",
        )

    # -- following the user's text -------------------------------------------------------------

    async def document_changed(self, path: str) -> None:
        """The user edited or saved ``path``: follow the text, then re-map the diagnostics."""
        await self.following.follow_text(path)
        await self.refresh_diagnostics(path)

    # -- diagnostics ---------------------------------------------------------------------------

    async def _refresh_paths(self, paths: Iterable[str]) -> None:
        for path in dict.fromkeys(paths):
            await self.refresh_diagnostics(path)

    async def refresh_diagnostics(self, path: str) -> None:
        from .diagnostics import diagnostics_for

        self.editor.publish(self.root / path, await diagnostics_for(self, path))
