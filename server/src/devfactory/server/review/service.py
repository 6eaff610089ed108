"""``ReviewService``: proposed changes, hunk-level decisions, and applying them safely.

A change compares one file of a run's worktree with the run's base snapshot. Approving
applies the chosen hunks to the user's file: through ``workspace/applyEdit`` when the file is
open in an editor that supports it (the buffer's undo history gets the edit), else by an
atomic write. If the user edited the file since, a three-way merge (base: what the file
would be, ours: the user's text, theirs: the proposal) is applied when clean; otherwise the
change becomes a conflict and nothing is written. A ``pre_apply`` snapshot taken first makes
every apply undoable with one restore.
"""

from __future__ import annotations

import logging
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
    Hunk,
)
from devfactory.protocol.enums import (
    ChangeAction,
    ChangeStatus,
    EventType,
    ExecutionMode,
    SnapshotType,
)
from devfactory.protocol.events import ChangeEvent
from devfactory.protocol.methods import Notifications
from devfactory.protocol.runs import Run

from ..errors import InvalidParams, InvalidState, NotFound
from ..wording import plural
from . import hunks as hunkmath
from .editor import Editor, uri_of
from .feedback import Feedback
from .files import atomic_write, merge_three_way, sha256
from .texts import ChangeTexts

if TYPE_CHECKING:
    from devfactory.storage import Store

    from ..app import DevFactoryServer
    from ..services import Services

log = logging.getLogger(__name__)

INLINE_DIFF_LIMIT = 64 * 1024
OPEN = ChangeStatus.PROPOSED


def _text(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", "replace")


def _is_binary(data: bytes | None) -> bool:
    return data is not None and b"\0" in data[:8192]


class ApplyOutcome:
    """What happened to one change in an approve request."""

    def __init__(self, status: ChangeStatus, reason: str | None = None) -> None:
        self.status = status
        self.reason = reason


class ReviewService:
    def __init__(
        self, *, server: DevFactoryServer, services: Services, texts: ChangeTexts, editor: Editor
    ) -> None:
        self.server = server
        self.services = services
        self.texts = texts
        self.editor = editor
        self.feedback = Feedback(self)

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
        before = await self.texts.base_content(base.commit_sha, path)
        worktree_file = Path(run.worktree_path) / path
        after = worktree_file.read_bytes() if worktree_file.is_file() else None
        existing = await self.store.changes.list(self.services.project.id, run_id=run.id, path=path)
        open_change = next(
            (c for c in existing if c.status in (OPEN, ChangeStatus.CONFLICT, ChangeStatus.STALE)),
            None,
        )
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
        binary = _is_binary(before) or _is_binary(after)
        before_text, after_text = _text(before), _text(after)
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

    async def run_finishing(self, run: Run, summary: str, files: list[str]) -> None:
        """Before the run is marked completed: propose its CHANGELOG_AI.md entry."""
        await self.feedback.propose_changelog(run, summary, files)

    async def run_completed(self, run: Run) -> None:
        """In yolo mode, apply everything as the run completes (behind a pre_apply snapshot)."""
        if run.mode is ExecutionMode.YOLO:
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
            before=None if before is None else _text(before),
            after=None if after is None else _text(after),
        )

    # -- deciding ------------------------------------------------------------------------------

    async def _targets(self, params: ChangeDecisionParams) -> list[Change]:
        if (params.change_ids is None) == (params.run_id is None):
            raise InvalidParams("name the changes with either changeIds or runId (exactly one)")
        if params.run_id is not None:
            await self.services.runs.get(params.run_id)  # type: ignore[union-attr]
            changes = await self.store.changes.list(self.services.project.id, run_id=params.run_id)
            changes = [c for c in changes if c.status in (OPEN, ChangeStatus.CONFLICT)]
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

    async def reject(self, params: ChangeDecisionParams) -> ChangeDecisionResult:
        changes = await self._targets(params)
        result = []
        for change in changes:
            chosen = self._chosen(change, params.hunks)
            hunk_list = [
                h
                if h.index not in chosen or h.status is not OPEN
                else _with_status(h, ChangeStatus.REJECTED)
                for h in change.hunks
            ]
            status = hunkmath.decided(hunk_list) if hunk_list else ChangeStatus.REJECTED
            updated = await self.store.changes.set_status(
                change.id, status or change.status, reason=params.comment, hunks=hunk_list
            )
            await self._event(EventType.CHANGE_REJECTED, updated, sorted(chosen), params.comment)
            result.append(updated)
        await self._refresh_paths(c.path for c in changes)
        return ChangeDecisionResult(changes=result)

    async def approve(self, params: ChangeDecisionParams) -> ChangeDecisionResult:
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
            await self._event(EventType.CHANGE_APPROVED, change, sorted(chosen), params.comment)
            try:
                outcome = await self._apply(change, chosen)
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
                _with_status(h, ChangeStatus.APPLIED) if h.index in chosen else h
                for h in change.hunks
            ]
            status = hunkmath.decided(hunk_list) if hunk_list else ChangeStatus.APPLIED
            updated = await self.store.changes.set_status(
                change.id, status or OPEN, hunks=hunk_list
            )
            await self._event(EventType.CHANGE_APPLIED, updated, sorted(chosen), None)
        else:
            updated = await self.store.changes.set_status(
                change.id, outcome.status, reason=outcome.reason
            )
            if outcome.status is ChangeStatus.CONFLICT:
                await self._event(
                    EventType.CHANGE_CONFLICT, updated, sorted(chosen), outcome.reason
                )
        return updated

    async def _apply(self, change: Change, chosen: set[int]) -> ApplyOutcome:
        before, after = await self.contents(change)
        target_path = self.root / change.path
        open_text = self.editor.open_text(target_path)
        on_disk = target_path.read_bytes() if target_path.is_file() else None
        current = open_text.encode() if open_text is not None else on_disk
        previously = {h.index for h in change.hunks if h.status is ChangeStatus.APPLIED}
        if change.action is ChangeAction.DELETE:
            expected = before
            if current is None:
                return ApplyOutcome(ChangeStatus.STALE, "the file no longer exists")
            if current != expected:
                return ApplyOutcome(
                    ChangeStatus.CONFLICT, "you edited a file the run deletes; nothing was deleted"
                )
            return await self._delete(target_path, open_text is not None)
        if _is_binary(before) or _is_binary(after) or not change.hunks:
            expected, target = before, after
        else:
            expected = hunkmath.apply_hunks(_text(before), _text(after), previously).encode()
            target = hunkmath.apply_hunks(_text(before), _text(after), previously | chosen).encode()
            if change.action is ChangeAction.CREATE and not previously:
                expected = None
        assert target is not None
        if current == target:
            return ApplyOutcome(ChangeStatus.STALE, "the file already has this content")
        if current is None and expected is not None:
            return ApplyOutcome(ChangeStatus.STALE, "the file no longer exists")
        if current is not None and current != expected:
            if _is_binary(current) or _is_binary(target):
                return ApplyOutcome(
                    ChangeStatus.CONFLICT, "the binary file changed since the run started"
                )
            merged, clean = await merge_three_way(_text(current), _text(expected), _text(target))
            if not clean:
                return ApplyOutcome(
                    ChangeStatus.CONFLICT,
                    "your edits overlap the proposed hunks; nothing was written",
                )
            target = merged.encode()
        return await self._write(target_path, current, target, open_text is not None)

    async def _write(
        self, path: Path, current: bytes | None, target: bytes, is_open: bool
    ) -> ApplyOutcome:
        label = f"DevFactory: apply change to {path.relative_to(self.root)}"
        if is_open and self.editor.can_apply_edits() and current is not None:
            edit = types.WorkspaceEdit(
                changes={uri_of(path): text_edits(_text(current), _text(target))}
            )
            ok, reason = await self.editor.apply_edit(label, edit)
            if ok:
                return ApplyOutcome(ChangeStatus.APPLIED)
            return ApplyOutcome(
                ChangeStatus.CONFLICT, f"the editor refused the edit: {reason or 'no reason given'}"
            )
        if (
            current is None
            and self.editor.can_apply_edits()
            and self.editor.supports_resource_operation(types.ResourceOperationKind.Create)
        ):
            uri = uri_of(path)
            edit = types.WorkspaceEdit(
                document_changes=[
                    types.CreateFile(
                        uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)
                    ),
                    types.TextDocumentEdit(
                        text_document=types.OptionalVersionedTextDocumentIdentifier(
                            uri=uri, version=None
                        ),
                        edits=[
                            types.TextEdit(
                                range=types.Range(
                                    start=types.Position(0, 0), end=types.Position(0, 0)
                                ),
                                new_text=_text(target),
                            )
                        ],
                    ),
                ]
            )
            ok, _ = await self.editor.apply_edit(label, edit)
            if ok and path.is_file():
                return ApplyOutcome(ChangeStatus.APPLIED)
        atomic_write(path, target)
        return ApplyOutcome(ChangeStatus.APPLIED)

    async def _delete(self, path: Path, is_open: bool) -> ApplyOutcome:
        if (
            is_open
            and self.editor.can_apply_edits()
            and self.editor.supports_resource_operation(types.ResourceOperationKind.Delete)
        ):
            ok, _ = await self.editor.apply_edit(
                f"DevFactory: delete {path.relative_to(self.root)}",
                types.WorkspaceEdit(document_changes=[types.DeleteFile(uri=uri_of(path))]),
            )
            if ok and not path.exists():
                return ApplyOutcome(ChangeStatus.APPLIED)
        path.unlink(missing_ok=True)
        return ApplyOutcome(ChangeStatus.APPLIED)

    async def _set_status(self, change: Change, status: ChangeStatus, reason: str) -> Change:
        updated = await self.store.changes.set_status(change.id, status, reason=reason)
        await self.refresh_diagnostics(change.path)
        return updated

    async def _event(
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

    # -- diagnostics ---------------------------------------------------------------------------

    async def _refresh_paths(self, paths: Iterable[str]) -> None:
        for path in dict.fromkeys(paths):
            await self.refresh_diagnostics(path)

    async def refresh_diagnostics(self, path: str) -> None:
        from .diagnostics import diagnostics_for

        self.editor.publish(self.root / path, await diagnostics_for(self, path))


def _with_status(hunk: Hunk, status: ChangeStatus) -> Hunk:
    return Hunk(
        index=hunk.index,
        old_start=hunk.old_start,
        old_lines=hunk.old_lines,
        new_start=hunk.new_start,
        new_lines=hunk.new_lines,
        header=hunk.header,
        status=status,
    )


def text_edits(current: str, target: str) -> list[types.TextEdit]:
    """Minimal line edits turning ``current`` into ``target`` (cursor and folds survive)."""
    a, b = hunkmath.split_lines(current), hunkmath.split_lines(target)
    edits = []
    for tag, i1, i2, j1, j2 in hunkmath.opcodes(a, b):
        if tag == "equal":
            continue
        edits.append(
            types.TextEdit(
                range=types.Range(start=_position(a, i1), end=_position(a, i2)),
                new_text="".join(b[j1:j2]),
            )
        )
    return edits


def _position(lines: list[str], index: int) -> types.Position:
    """Start of line ``index``; past the last line, the end of a file without final newline."""
    if index < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(line=index, character=0)
    last = lines[-1]
    return types.Position(line=len(lines) - 1, character=len(last.encode("utf-16-le")) // 2)
