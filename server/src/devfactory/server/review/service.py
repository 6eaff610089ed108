"""``ReviewService``: proposed changes, hunk-level decisions, and applying them safely.

A change compares one file of a run's worktree with the run's base snapshot. A proposal reads
the worktree's file through ``safefs.SafeTree``, without following links and up to
``MAX_REVIEW_BYTES``: a link, a pipe or a huge file is reported and not proposed. Approving
applies the chosen hunks to the user's file (``applying.Applier``) behind a ``pre_apply``
snapshot that makes every apply undoable with one restore. Decisions hold the workspace lock:
two approvals of one run apply it once, and the second finds the changes decided.

The service knows nothing of runs beyond their records: a run offers its changes through the
runs' ``Proposals`` port (``proposals.py``), with the commit to compare against, which each
change keeps (``base_commit``).
"""

from __future__ import annotations

import contextlib
import logging
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

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
from ..runs.lookup import project_run
from ..safefs import FileTooLarge, PathRefused, SafeTree, shown
from ..wording import plural
from . import changelog
from . import hunks as hunkmath
from .applying import Applier, ApplyOutcome
from .changelog import CHANGELOG
from .diagnostics import SEVERITIES, HunkSite, sites_of, to_lsp_code_actions, to_lsp_diagnostics
from .editor import Editor
from .files import as_text, is_binary, sha256
from .texts import GITLINK_MODE, LINK_MODE, MAX_REVIEW_BYTES, ChangeTexts

if TYPE_CHECKING:
    from devfactory.protocol.settings import ReviewSettings
    from devfactory.storage import Store

    from ..events.bus import EventBus
    from ..ports import Notify
    from ..workspace.snapshots import SnapshotService

log = logging.getLogger(__name__)

INLINE_DIFF_LIMIT = 64 * 1024
OPEN = ChangeStatus.PROPOSED


RUN_REVERTED = "the run reverted this change"
NOT_PROPOSED = "not proposed: "
"""The reasons of a stale change whose file the run set back to its base, and of one it
changed past what can be proposed (the worktree then holds what was never stored)."""
_CHANGING_EVENTS = frozenset(
    {
        EventType.CHANGE_PROPOSED,
        EventType.FILE_CREATED,
        EventType.FILE_UPDATED,
        EventType.FILE_DELETED,
    }
)
"""A run's events that name a file it changed (their payload's ``path``)."""


class ReviewService:
    def __init__(
        self,
        *,
        store: Store,
        project_id: int,
        root: Path,
        protected: frozenset[str],
        settings: ReviewSettings,
        events: EventBus,
        snapshots: SnapshotService,
        texts: ChangeTexts,
        editor: Editor,
        notify: Notify,
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.root = root
        self.events = events
        self.snapshots = snapshots
        """Takes the pre_apply snapshot of every approval, and holds the workspace lock."""
        self.texts = texts
        self.editor = editor
        self.notify = notify
        self.severity = SEVERITIES.get(settings.diagnostics)
        """Of the diagnostic on each proposed hunk (None: the setting is off)."""
        self.protected = protected
        """The files that configure DevFactory: never proposed, never applied."""
        self.tree = SafeTree(root, self.protected)
        """The user's workspace, as approvals write it."""
        self.applier = Applier(self.tree, root, editor, self.contents, {CHANGELOG: changelog.merge})

    # -- proposing -----------------------------------------------------------------------------

    async def propose(self, run: Run, base_commit: str, path: str) -> Change | None:
        """(Re)compute the change of ``path`` in the run's worktree against ``base_commit``."""
        if run.worktree_path is None:
            return None
        existing = await self.store.changes.list(self.project_id, run_id=run.id, path=path)
        open_change = next(
            (c for c in existing if c.status in (OPEN, ChangeStatus.CONFLICT, ChangeStatus.STALE)),
            None,
        )
        try:
            before, after = await self._versions(run, base_commit, path)
        except (PathRefused, FileTooLarge) as exc:
            await self.not_proposed(run, open_change, str(exc))
            return None
        if (
            open_change is not None
            and open_change.status is OPEN
            and open_change.after_hash == sha256(after)
        ):  # already proposed as it is; kept, unless its proposer stopped before keeping it
            if not await self.texts.kept(open_change.id):
                diff = _diff_of(path, open_change.action, before, after)
                await self.texts.keep(open_change.id, before, after, diff)
            return open_change
        if before == after:
            if open_change is not None:  # the run reverted its own edit
                await self._set_status(open_change, ChangeStatus.STALE, RUN_REVERTED)
            return None
        action = (
            ChangeAction.CREATE
            if before is None
            else ChangeAction.DELETE
            if after is None
            else ChangeAction.UPDATE
        )
        binary = is_binary(before) or is_binary(after)
        diff = _diff_of(path, action, before, after)
        hunk_list = [] if binary else hunkmath.compute_hunks(as_text(before), as_text(after))
        event = await self.events.emit(
            run.id,
            EventType.CHANGE_PROPOSED,
            f"Proposed {action.value} of {path}",
            ChangeEvent(change_id=0, path=path, action=action, hunks=[h.index for h in hunk_list]),
            message=plural(len(hunk_list), "hunk"),
        )
        change = await self.store.changes.upsert(
            project_id=self.project_id,
            run_id=run.id,
            path=path,
            base_commit=base_commit,
            action=action,
            before_hash=sha256(before),
            after_hash=sha256(after),
            diff=diff if len(diff) <= INLINE_DIFF_LIMIT else None,
            diff_path=None,
            hunks=hunk_list,
            event_id=event.id,
        )
        await self.texts.keep(change.id, before, after, diff)
        change = await self.store.changes.set_diff_path(
            change.id, str(self.texts.diff_file(change.id))
        )
        self.notify(Notifications.CHANGE_PROPOSED, ChangeProposedNotification(change=change))
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
        message = f"{NOT_PROPOSED}{reason}; the file stays in the run's worktree"
        await self.events.emit(
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

    async def apply_completed(self, run: Run) -> None:
        """In yolo mode, apply everything as the run completes (behind a pre_apply snapshot)."""
        if run.mode is ExecutionMode.YOLO:
            with contextlib.suppress(InvalidState):  # the user decided every change already
                await self.approve(ChangeDecisionParams(run_id=run.id))

    # -- reading -------------------------------------------------------------------------------

    async def run(self, run_id: int) -> Run:
        """A run of this workspace (NotFound otherwise)."""
        return await project_run(self.store, self.project_id, run_id)

    async def get(self, change_id: int) -> Change:
        change = await self.store.changes.get(change_id)
        if change is None or change.project_id != self.project_id:
            raise NotFound("change", change_id)
        return change

    async def list_changes(self, params: ChangesListParams) -> list[Change]:
        return await self.store.changes.list(
            self.project_id, run_id=params.run_id, path=params.path, status=params.status
        )

    async def proposed_files(self, run: Run) -> list[tuple[str, bytes | None]] | None:
        """Each path the run changed, as it last proposed it (None: deleted), whatever was
        decided about it since (the run's worktree still holds it); None when a path it
        changed has no stored proposal (a worker stopped between writing the file and storing
        what it proposed, or a file too large to propose)."""
        files: list[tuple[str, bytes | None]] = []
        changes = await self.store.changes.list(self.project_id, run_id=run.id)
        for change in changes:
            stale = change.status is ChangeStatus.STALE
            if stale and change.reason == RUN_REVERTED:
                continue  # the file is as in the run's base
            if stale and (change.reason or "").startswith(NOT_PROPOSED):
                return None  # the worktree holds what was not stored
            if change.base_commit is None or not await self.texts.kept(change.id):
                return None
            _, after = await self.contents(change)
            files.append((change.path, after))
        if await self._changed_paths(run) - {change.path for change in changes}:
            return None
        return files

    async def _changed_paths(self, run: Run) -> set[str]:
        """Every path the run's events say it changed or proposed."""
        paths: set[str] = set()
        since = 0
        while events := await self.store.events.list(self.project_id, run_id=run.id, since=since):
            paths.update(
                str(e.payload["path"])
                for e in events
                if e.type in _CHANGING_EVENTS and e.payload.get("path")
            )
            since = events[-1].id
        return paths

    async def contents(self, change: Change) -> tuple[bytes | None, bytes | None]:
        if change.base_commit is None:
            raise InvalidState(f"change {change.id} does not name the commit it was made against")
        return await self.texts.versions(change.id, change.base_commit, change.path)

    async def diff(self, change_id: int) -> ChangeDiff:
        change = await self.get(change_id)
        before, after = await self.contents(change)
        return ChangeDiff(
            change=change,
            diff=await self.texts.diff_text(change.id),
            before=None if before is None else as_text(before),
            after=None if after is None else as_text(after),
        )

    # -- deciding ------------------------------------------------------------------------------

    async def _targets(self, params: ChangeDecisionParams) -> list[Change]:
        if (params.change_ids is None) == (params.run_id is None):
            raise InvalidParams("name the changes with either changeIds or runId (exactly one)")
        if params.run_id is not None:
            await self.run(params.run_id)
            every = await self.store.changes.list(self.project_id, run_id=params.run_id)
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
        return self.snapshots.writing.hold()

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
        snapshots = self.snapshots
        run_ids = sorted({c.run_id for c in changes})
        pre_apply = await snapshots.create(
            SnapshotType.PRE_APPLY,
            f"before applying changes of run {', '.join(map(str, run_ids))}",
            run_id=run_ids[0] if len(run_ids) == 1 else None,
        )
        result: list[Change] = []
        applied: list[int] = []
        conflicts: list[int] = []
        written: set[str] = set()
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
            if outcome.written:
                written.add(updated.path)
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
            changes=result,
            applied=applied,
            conflicts=conflicts,
            written=sorted(written),
            snapshot_id=pre_apply.id,
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
            await self.event(
                EventType.CHANGE_APPLIED, updated, sorted(chosen), None, written=outcome.written
            )
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
        self,
        type: EventType,
        change: Change,
        hunk_ids: list[int],
        reason: str | None,
        *,
        written: bool = False,
    ) -> None:
        verb = type.value.removeprefix("change_")
        await self.events.emit(
            change.run_id,
            type,
            f"Change {change.id} {verb}: {change.path}",
            ChangeEvent(
                change_id=change.id,
                path=change.path,
                action=change.action,
                hunks=hunk_ids or None,
                reason=reason,
                written=written,
            ),
            message=reason or "",
        )

    # -- diagnostics ---------------------------------------------------------------------------

    async def _refresh_paths(self, paths: Iterable[str]) -> None:
        for path in dict.fromkeys(paths):
            await self.refresh_diagnostics(path)

    async def refresh_diagnostics(self, path: str) -> None:
        sites = await self.hunk_sites(path)
        self.editor.publish(self.root / path, to_lsp_diagnostics(sites, self.severity))

    async def hunk_sites(self, path: str) -> list[HunkSite]:
        """Where each open hunk of ``path`` sits in the user's current text."""
        changes = await self.store.changes.list(
            self.project_id, path=path, status=ChangeStatus.PROPOSED
        )
        if not changes or (current := self.current_text(path)) is None:
            return []
        titles: dict[int, str] = {}
        sites = []
        for change in changes:
            if change.run_id not in titles:
                titles[change.run_id] = (await self.run(change.run_id)).title
            before, _ = await self.contents(change)
            before_text = "" if before is None else before.decode("utf-8", "replace")
            sites += sites_of(change, before_text, current, titles[change.run_id])
        return sites

    def current_text(self, path: str) -> str | None:
        """The user's text of ``path``: the open buffer, else the file (None: nothing to point
        at, as a created file without a document yet, or a file an apply would refuse too)."""
        current = self.editor.open_text(self.root / path)
        if current is not None:
            return current
        try:
            data = self.tree.read(path, MAX_REVIEW_BYTES)
        except (PathRefused, FileTooLarge):
            return None
        return None if data is None else data.decode("utf-8", "replace")

    async def code_actions(self, path: str, selection: types.Range) -> list[types.CodeAction]:
        return to_lsp_code_actions(await self.hunk_sites(path), selection, self.severity)


def _diff_of(path: str, action: ChangeAction, before: bytes | None, after: bytes | None) -> str:
    """The unified diff a change shows (one line for a binary or non-UTF-8 file)."""
    if is_binary(before) or is_binary(after):
        return f"Binary file {path} differs\n"
    return hunkmath.unified_diff(
        as_text(before),
        as_text(after),
        path,
        created=action is ChangeAction.CREATE,
        deleted=action is ChangeAction.DELETE,
    )
