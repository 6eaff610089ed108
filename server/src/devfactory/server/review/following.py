"""Hunk states that follow the user's text, and conflicts the user resolves.

An applied hunk the user undid in the editor is proposed again (``change_reverted``), so it
shows and can be approved again; a proposed hunk whose text is back (a redo) is applied.
``devfactory/changes/resolve`` closes a conflict the user settled in their file: each hunk
whose proposed text is there (or that they merged by hand) counts as applied, each whose
old text they kept as rejected.
"""

from __future__ import annotations

from devfactory.protocol.changes import Change, ChangeProposedNotification
from devfactory.protocol.enums import ChangeAction, ChangeStatus, EventType
from devfactory.protocol.methods import Notifications

from ..errors import InvalidState
from . import hunks as hunkmath
from .files import as_text, is_binary
from .service import ReviewService

OPEN = ChangeStatus.PROPOSED
APPLIED = ChangeStatus.APPLIED


class TextFollower:
    def __init__(self, review: ReviewService) -> None:
        self.review = review

    async def document_changed(self, path: str) -> None:
        """The user edited or saved ``path``: follow the text, then re-map the diagnostics."""
        await self.follow_text(path)
        await self.review.refresh_diagnostics(path)

    async def follow_text(self, path: str) -> None:
        """Bring the hunk states of ``path`` in line with its text (see the module docstring)."""
        if not any(c.hunks for c in await self._followed(path)):
            return
        async with self.review.deciding():
            for change in await self._followed(path):
                await self._follow(change)

    async def resolve(self, change_id: int) -> Change:
        """The user settled a conflict in their file: decide each hunk from the text."""
        async with self.review.deciding():
            change = await self.review.get(change_id)
            if change.status is not ChangeStatus.CONFLICT:
                raise InvalidState(
                    f"change {change.id} is {change.status.value}; only a conflict is resolved"
                )
            texts = await self._texts(change)
            if texts is None or not change.hunks:  # binary, or gone: what is there decides
                took = texts is not None and texts[2] == texts[1]
                updated = await self.review.store.changes.set_status(
                    change.id, APPLIED if took else ChangeStatus.REJECTED, reason="resolved by you"
                )
                done = EventType.CHANGE_APPLIED if took else EventType.CHANGE_REJECTED
                await self.review.event(done, updated, [], "resolved by you")
            else:
                updated = await self._resolve_hunks(change, *texts)
        self.review.notify(
            Notifications.CHANGE_PROPOSED, ChangeProposedNotification(change=updated)
        )
        await self.review.refresh_diagnostics(change.path)
        return updated

    async def _resolve_hunks(self, change: Change, before: str, after: str, current: str) -> Change:
        applied = {h.index for h in change.hunks if h.status is APPLIED}
        found = hunkmath.hunks_in_text(before, after, applied, current)
        kept = {h.index for h in change.hunks if h.status is OPEN and found.get(h.index) is False}
        taken = sorted({h.index for h in change.hunks if h.status is OPEN} - kept)
        hunk_list = [
            h
            if h.status is not OPEN
            else hunkmath.with_status(h, ChangeStatus.REJECTED if h.index in kept else APPLIED)
            for h in change.hunks
        ]
        status = hunkmath.decided(hunk_list) or APPLIED
        updated = await self.review.store.changes.set_status(
            change.id, status, reason="resolved by you", hunks=hunk_list
        )
        if taken:
            await self.review.event(EventType.CHANGE_APPLIED, updated, taken, "resolved by you")
        if kept:
            await self.review.event(
                EventType.CHANGE_REJECTED, updated, sorted(kept), "you kept your text"
            )
        return updated

    async def _texts(self, change: Change) -> tuple[str, str, str] | None:
        """(base, proposal, the user's text now) of a text change; None for binary files or a
        file that is gone."""
        before, after = await self.review.contents(change)
        current = self.review.current_text(change.path)
        if current is None or is_binary(before) or is_binary(after):
            return None
        return as_text(before), as_text(after), current

    async def _followed(self, path: str) -> list[Change]:
        changes = await self.review.store.changes.list(self.review.project_id, path=path)
        return [
            c
            for c in changes
            if c.status in (OPEN, APPLIED) and c.hunks and c.action is not ChangeAction.DELETE
        ]

    async def _follow(self, change: Change) -> None:
        texts = await self._texts(change)
        if texts is None:
            return
        applied = {h.index for h in change.hunks if h.status is APPLIED}
        found = hunkmath.hunks_in_text(*texts[:2], applied, texts[2])
        undone = sorted(i for i in applied if found.get(i) is False)
        redone = sorted(
            h.index for h in change.hunks if h.status is OPEN and found.get(h.index) is True
        )
        if not undone and not redone:
            return
        hunk_list = [
            hunkmath.with_status(h, OPEN)
            if h.index in undone
            else hunkmath.with_status(h, APPLIED)
            if h.index in redone
            else h
            for h in change.hunks
        ]
        status = hunkmath.decided(hunk_list) or OPEN
        updated = await self.review.store.changes.set_status(change.id, status, hunks=hunk_list)
        if undone:
            reason = "the applied text was undone in the editor; it can be approved again"
            await self.review.event(EventType.CHANGE_REVERTED, updated, undone, reason)
        if redone:
            reason = "the proposed text is back in the file"
            await self.review.event(EventType.CHANGE_APPLIED, updated, redone, reason)
        self.review.notify(
            Notifications.CHANGE_PROPOSED, ChangeProposedNotification(change=updated)
        )
