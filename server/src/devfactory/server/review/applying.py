"""Applying one approved change to the user's file, safely.

Through the open buffer (``workspace/applyEdit``, so the edit lands in its undo history) when
the editor can, else by an atomic write. If the user edited the file since the run started, a
three-way merge is applied when clean; otherwise the change is a conflict and nothing is
written. A file that is binary or not UTF-8 has no text to merge without losing bytes: it is
replaced whole, only while it is as the run found it, and never through the buffer. The path is
checked again and resolved in the workspace through ``SafeTree``: a link on the way or a path
edited in the database is refused, never written through.
"""

from __future__ import annotations

import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from lsprotocol import types

from devfactory.protocol.changes import Change
from devfactory.protocol.enums import ChangeAction, ChangeStatus

from ..safefs import SafeTree
from . import hunks as hunkmath
from .editor import Editor, uri_of
from .files import as_text, is_binary, merge_three_way, sha256
from .texts import MAX_REVIEW_BYTES

Contents = Callable[[Change], Awaitable[tuple[bytes | None, bytes | None]]]
"""(base, proposal) bytes of a change."""

Merger = Callable[[str, str, int], str]
"""(the file as it is now, the whole proposal, the proposing run) -> the file to write."""


class ApplyOutcome:
    """What happened to one change in an approve request."""

    def __init__(
        self, status: ChangeStatus, reason: str | None = None, written: bool = False
    ) -> None:
        self.status = status
        self.reason = reason
        self.written = written
        """The file was written (or deleted) on disk here, not through the editor: the editor
        learns of it only by reloading its buffer of the file."""


class Applier:
    """Writes approved changes into the workspace ``tree``."""

    def __init__(
        self,
        tree: SafeTree,
        root: Path,
        editor: Editor,
        contents: Contents,
        mergers: Mapping[str, Merger] | None = None,
    ) -> None:
        self.tree = tree
        self.root = root
        """The workspace as the editor names it (URIs of open documents)."""
        self.editor = editor
        self.contents = contents
        self.mergers = dict(mergers or {})
        """Files whose whole proposal merges into the edited file by a rule of their own
        instead of three-way (CHANGELOG_AI.md: entries of several runs)."""

    async def apply(self, change: Change, chosen: set[int]) -> ApplyOutcome:
        """Write the ``chosen`` hunks (with those applied before) into the user's file."""
        rel = self.tree.check(change.path)  # the database may have been edited: check again
        on_disk = self.tree.read(rel, MAX_REVIEW_BYTES)  # refuses links on the way
        before, after = await self.contents(change)
        if sha256(before) != change.before_hash or sha256(after) != change.after_hash:
            return ApplyOutcome(
                ChangeStatus.CONFLICT,
                "the proposed file is not available here (its run stopped before keeping it);"
                " nothing was written",
            )
        open_text = self.editor.open_text(self.root / rel)
        whole_only = is_binary(before) or is_binary(after)
        if whole_only and open_text is not None:
            return ApplyOutcome(
                ChangeStatus.CONFLICT,
                "the file is binary or not UTF-8 and open in your editor, which holds it as text"
                " in an encoding unknown here; close it and approve again",
            )
        current = open_text.encode() if open_text is not None else on_disk
        previously = {h.index for h in change.hunks if h.status is ChangeStatus.APPLIED}
        whole = previously | chosen == {h.index for h in change.hunks}
        if change.action is ChangeAction.DELETE:
            expected = before
            if current is None:
                return ApplyOutcome(ChangeStatus.STALE, "the file no longer exists")
            if current != expected:
                return ApplyOutcome(
                    ChangeStatus.CONFLICT, "you edited a file the run deletes; nothing was deleted"
                )
            return await self._delete(rel, open_text is not None)
        if whole_only or not change.hunks:
            if not whole:  # hunks of a non-UTF-8 file proposed before it was reviewed whole
                return ApplyOutcome(
                    ChangeStatus.CONFLICT,
                    "the file is not UTF-8 and is applied whole: approve all of it",
                )
            expected, target = before, after
        else:
            expected = hunkmath.apply_hunks(as_text(before), as_text(after), previously).encode()
            target = hunkmath.apply_hunks(
                as_text(before), as_text(after), previously | chosen
            ).encode()
            if change.action is ChangeAction.CREATE and not previously:
                # Not there yet: missing on disk, or a blank buffer the user opened for it
                # (Neovim sends an empty buffer as "\n").
                blank = on_disk is None and open_text is not None and not open_text.strip()
                expected = current if blank else None
        assert target is not None
        if current == target:
            return ApplyOutcome(ChangeStatus.STALE, "the file already has this content")
        if current is None and expected is not None:
            return ApplyOutcome(ChangeStatus.STALE, "the file no longer exists")
        if current is not None and current != expected:
            if whole_only or is_binary(current) or is_binary(target):  # bytes text would lose
                return ApplyOutcome(
                    ChangeStatus.CONFLICT,
                    "the binary or non-UTF-8 file changed since the run started;"
                    " nothing was written",
                )
            merger = self.mergers.get(rel)
            if merger is not None and whole:
                merged_text = merger(as_text(current), as_text(target), change.run_id).encode()
                if merged_text == current:
                    return ApplyOutcome(ChangeStatus.STALE, "the file already has this content")
                return await self._write(rel, current, merged_text, open_text is not None)
            merged, clean = await merge_three_way(
                as_text(current), as_text(expected), as_text(target)
            )
            if not clean:
                return ApplyOutcome(
                    ChangeStatus.CONFLICT,
                    "your edits overlap the proposed hunks; nothing was written",
                )
            target = merged.encode()
        return await self._write(rel, current, target, open_text is not None)

    async def _write(
        self, rel: str, current: bytes | None, target: bytes, is_open: bool
    ) -> ApplyOutcome:
        path = self.root / rel
        label = f"DevFactory: apply change to {rel}"
        if is_open and self.editor.can_apply_edits() and current is not None:
            edit = types.WorkspaceEdit(
                changes={uri_of(path): text_edits(as_text(current), as_text(target))}
            )
            ok, reason = await self.editor.apply_edit(label, edit)
            if ok:
                return ApplyOutcome(ChangeStatus.APPLIED)
            return ApplyOutcome(
                ChangeStatus.CONFLICT, f"the editor refused the edit: {reason or 'no reason given'}"
            )
        if (
            current is None
            and not is_binary(target)  # the editor takes text
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
                                new_text=as_text(target),
                            )
                        ],
                    ),
                ]
            )
            ok, _ = await self.editor.apply_edit(label, edit)
            created = self.tree.lstat(rel)
            if ok and created is not None and stat.S_ISREG(created.st_mode):
                return ApplyOutcome(ChangeStatus.APPLIED)
        self.tree.write(rel, target)
        return ApplyOutcome(ChangeStatus.APPLIED, written=True)

    async def _delete(self, rel: str, is_open: bool) -> ApplyOutcome:
        path = self.root / rel
        if (
            is_open
            and self.editor.can_apply_edits()
            and self.editor.supports_resource_operation(types.ResourceOperationKind.Delete)
        ):
            ok, _ = await self.editor.apply_edit(
                f"DevFactory: delete {rel}",
                types.WorkspaceEdit(document_changes=[types.DeleteFile(uri=uri_of(path))]),
            )
            if ok and self.tree.lstat(rel) is None:
                return ApplyOutcome(ChangeStatus.APPLIED)
        self.tree.delete(rel)
        return ApplyOutcome(ChangeStatus.APPLIED, written=True)


def text_edits(current: str, target: str) -> list[types.TextEdit]:
    """Minimal line edits turning ``current`` into ``target`` (cursor and folds survive)."""
    a, b = hunkmath.split_lines(current), hunkmath.split_lines(target)
    edits = []
    for tag, i1, i2, j1, j2 in hunkmath.opcodes(a, b):
        if tag == "equal":
            continue
        new_text = "".join(b[j1:j2])
        edits.append(
            _append_at_end(a, new_text)
            if i1 == i2 == len(a)
            else types.TextEdit(
                range=types.Range(start=_position(a, i1), end=_position(a, i2)),
                new_text=new_text,
            )
        )
    return edits


def _append_at_end(lines: list[str], new_text: str) -> types.TextEdit:
    """Lines added after the last line, as an insertion before the last line's ending.

    The same text inserted on the line after the final newline is right by the protocol, but
    Neovim has no such line and appends the text's final newline as a blank line.
    """
    last = lines[-1] if lines else ""
    ending = last[len(last.rstrip("\r\n")) :]
    if not ending or not new_text.endswith(ending):
        return types.TextEdit(
            range=types.Range(start=_position(lines, len(lines)), end=_position(lines, len(lines))),
            new_text=new_text,
        )
    at = types.Position(line=len(lines) - 1, character=_utf16_length(last[: -len(ending)]))
    return types.TextEdit(
        range=types.Range(start=at, end=at), new_text=ending + new_text[: -len(ending)]
    )


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _position(lines: list[str], index: int) -> types.Position:
    """Start of line ``index``; past the last line, the end of a file without final newline."""
    if index < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(line=index, character=0)
    return types.Position(line=len(lines) - 1, character=_utf16_length(lines[-1]))
