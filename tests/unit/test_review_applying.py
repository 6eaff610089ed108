"""Approving a change to a file that is not UTF-8 (Latin-1 here): as text, each byte that is not
UTF-8 became U+FFFD and the file written back lost all of them, far from the approved hunk. Such
a file is applied whole, only over the run's base, and never through the editor's buffer."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from devfactory.protocol.changes import Change
from devfactory.protocol.enums import ChangeAction, ChangeStatus
from devfactory.server.review import hunks as hunkmath
from devfactory.server.review.applying import Applier
from devfactory.server.review.files import as_text, sha256
from devfactory.server.safefs import SafeTree

LINES = [b"x = %d\n" % i for i in range(20)]
BASE = b"".join(
    ["# Résumé des données\n".encode("latin-1"), *LINES, "nom = 'Zoë'\n".encode("latin-1")]
)
PROPOSAL = BASE.replace(b"x = 5\n", b"x = 5.5\n").replace(b"x = 15\n", b"x = 15.5\n")
"""Two hunks, far apart and away from the Latin-1 lines."""
USERS = BASE.replace(b"x = 10\n", "x = 'à'\n".encode("latin-1"))
"""The user's concurrent edit, away from both hunks (a clean three-way merge as text)."""


class FakeEditor:
    """An editor holding ``open_text`` (decoded by the editor, as Latin-1) and recording edits."""

    def __init__(self, open_text: str | None = None, edits: bool = True) -> None:
        self.text = open_text
        self.edits_supported = edits
        self.edits: list[types.WorkspaceEdit] = []

    def open_text(self, path: Path) -> str | None:
        return self.text

    def open_paths(self) -> list[Path]:
        return []

    def can_apply_edits(self) -> bool:
        return self.edits_supported

    def supports_resource_operation(self, kind: types.ResourceOperationKind) -> bool:
        return True

    async def apply_edit(self, label: str, edit: types.WorkspaceEdit) -> tuple[bool, str | None]:
        self.edits.append(edit)
        return True, None

    def publish(self, path: Path, diagnostics: list[types.Diagnostic]) -> None:
        pass


def proposed(action: ChangeAction, before: bytes | None, after: bytes) -> Change:
    """The change as proposed before non-UTF-8 files were reviewed whole: with text hunks."""
    hunks = hunkmath.compute_hunks(as_text(before), as_text(after))
    return Change(
        id=1,
        run_id=1,
        project_id=1,
        path="m.py",
        action=action,
        status=ChangeStatus.PROPOSED,
        before_hash=sha256(before),
        after_hash=sha256(after),
        hunks=hunks,
        base_commit="base",
        created_at="",
        updated_at="",
    )


CASES = [
    # (id, on disk, open in the editor, editor applies edits, action, base, chosen, outcome, disk)
    ("approved whole", BASE, None, True, ChangeAction.UPDATE, BASE, {0, 1}, "applied", PROPOSAL),
    ("one hunk of two", BASE, None, True, ChangeAction.UPDATE, BASE, {0}, "conflict", BASE),
    ("user edited it", USERS, None, True, ChangeAction.UPDATE, BASE, {0, 1}, "conflict", USERS),
    ("open, no applyEdit", BASE, BASE, False, ChangeAction.UPDATE, BASE, {0, 1}, "conflict", BASE),
    ("open in the editor", BASE, BASE, True, ChangeAction.UPDATE, BASE, {0, 1}, "conflict", BASE),
    ("created", None, None, True, ChangeAction.CREATE, None, {0}, "applied", PROPOSAL),
]


@pytest.mark.parametrize(
    ("disk", "buffer", "edits", "action", "base", "chosen", "outcome", "written"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
async def test_a_non_utf8_file_is_applied_whole_over_its_base_or_is_a_conflict(
    tmp_path: Path,
    disk: bytes | None,
    buffer: bytes | None,
    edits: bool,
    action: ChangeAction,
    base: bytes | None,
    chosen: set[int],
    outcome: str,
    written: bytes,
) -> None:
    if disk is not None:
        (tmp_path / "m.py").write_bytes(disk)
    editor = FakeEditor(None if buffer is None else buffer.decode("latin-1"), edits)

    async def contents(change: Change) -> tuple[bytes | None, bytes | None]:
        return base, PROPOSAL

    applier = Applier(SafeTree(tmp_path), tmp_path, editor, contents)
    result = await applier.apply(proposed(action, base, PROPOSAL), chosen)
    assert (result.status.value, (tmp_path / "m.py").read_bytes()) == (outcome, written)
    assert editor.edits == []


TEXT = b"a = 1\nb = 2\n"
EDITED = b"a = 1\nb = 3\n"
WRITTEN_CASES = [
    # (id, on disk, open in the editor, editor applies edits, action, after, written on disk)
    ("closed file", TEXT, False, True, ChangeAction.UPDATE, EDITED, True),
    ("open file", TEXT, True, True, ChangeAction.UPDATE, EDITED, False),
    ("open, no applyEdit", TEXT, True, False, ChangeAction.UPDATE, EDITED, True),
    ("created", None, False, True, ChangeAction.CREATE, EDITED, True),
    ("deleted", TEXT, False, True, ChangeAction.DELETE, b"", True),
]


@pytest.mark.parametrize(
    ("disk", "is_open", "edits", "action", "after", "written"),
    [c[1:] for c in WRITTEN_CASES],
    ids=[c[0] for c in WRITTEN_CASES],
)
async def test_the_outcome_says_whether_the_file_was_written_on_disk_or_through_the_editor(
    tmp_path: Path,
    disk: bytes | None,
    is_open: bool,
    edits: bool,
    action: ChangeAction,
    after: bytes,
    written: bool,
) -> None:
    """An editor reloads its buffers of the files written on disk (``written``) and of those
    only: a file open in it took the change into its buffer through ``workspace/applyEdit``."""
    if disk is not None:
        (tmp_path / "m.py").write_bytes(disk)
    editor = FakeEditor(disk.decode() if is_open and disk is not None else None, edits)
    before = None if action is ChangeAction.CREATE else TEXT

    async def contents(change: Change) -> tuple[bytes | None, bytes | None]:
        return before, after

    change = proposed(action, before, after)
    applier = Applier(SafeTree(tmp_path), tmp_path, editor, contents)
    result = await applier.apply(change, {h.index for h in change.hunks})
    file = tmp_path / "m.py"
    on_disk = file.read_bytes() if file.exists() else None
    expected = (None if action is ChangeAction.DELETE else after) if written else disk
    assert (result.status, result.written, on_disk) == (ChangeStatus.APPLIED, written, expected)
