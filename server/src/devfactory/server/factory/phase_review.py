"""A phase's combined diff, cut into hunks as a run's changes are, and its review comments
turned into what the revision tasks are told.

The diff compares the integration branch when the phase started (``Phase.base_commit``) with
its head now: everything the phase's tasks merged, together.
"""

from __future__ import annotations

from collections.abc import Iterable

from devfactory.protocol.enums import ChangeAction, DiffSide
from devfactory.protocol.initiatives import Phase, PhaseComment, PhaseDiff, PhaseFileDiff

from ..review import hunks as hunkmath
from ..review.files import as_text, is_binary
from ..review.texts import MAX_REVIEW_BYTES
from ..safefs import FileTooLarge
from .merging import IntegrationBranch

ACTIONS = {"A": ChangeAction.CREATE, "D": ChangeAction.DELETE}


async def phase_diff(integration: IntegrationBranch, phase: Phase, head: str) -> PhaseDiff:
    base = phase.base_commit or head
    files: list[PhaseFileDiff] = []
    limit = MAX_REVIEW_BYTES
    for status, path in await integration.changed_files(base, head):
        action = ACTIONS.get(status, ChangeAction.UPDATE)
        try:
            before = (
                None
                if action is ChangeAction.CREATE
                else await integration.file_at(base, path, limit)
            )
            after = (
                None
                if action is ChangeAction.DELETE
                else await integration.file_at(head, path, limit)
            )
        except FileTooLarge:
            files.append(not_shown(path, action))
            continue
        files.append(file_diff(path, action, before, after))
    return PhaseDiff(phase=phase, base_commit=base, head_commit=head, files=files)


def not_shown(path: str, action: ChangeAction) -> PhaseFileDiff:
    """A file too large to show, or binary."""
    return PhaseFileDiff(
        path=path, action=action, diff=f"Binary file {path} differs\n", binary=True
    )


def file_diff(
    path: str, action: ChangeAction, before: bytes | None, after: bytes | None
) -> PhaseFileDiff:
    too_large = max(len(before or b""), len(after or b"")) > MAX_REVIEW_BYTES
    if too_large or is_binary(before) or is_binary(after):
        return not_shown(path, action)
    old, new = as_text(before), as_text(after)
    diff = hunkmath.unified_diff(
        old,
        new,
        path,
        created=action is ChangeAction.CREATE,
        deleted=action is ChangeAction.DELETE,
    )
    return PhaseFileDiff(
        path=path, action=action, diff=diff, hunks=hunkmath.compute_hunks(old, new)
    )


def revision_brief(comments: Iterable[PhaseComment], note: str | None) -> str:
    """The review feedback as the revision task reads it."""
    lines = [
        f"- {c.path}:{c.line}{' (the old version)' if c.side is DiffSide.OLD else ''}: {c.body}"
        for c in comments
    ]
    if note:
        lines.insert(0, note.strip())
    return "\n".join(lines)
