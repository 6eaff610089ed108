"""Line diffs as hunks, partial application of chosen hunks, and line mapping.

A hunk is one contiguous changed region (zero context lines), so the user can take or leave
each edit on its own. The unified diff shown to people keeps three lines of context.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import msgspec

from devfactory.protocol.changes import Hunk
from devfactory.protocol.enums import ChangeStatus


def split_lines(text: str) -> list[str]:
    """Lines with their endings, so joining them gives the text back exactly."""
    return text.splitlines(keepends=True)


def opcodes(
    before: Sequence[str], after: Sequence[str]
) -> Sequence[tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()


def compute_hunks(before: str, after: str) -> list[Hunk]:
    """The changed regions of ``before`` -> ``after``; line numbers are 1-based."""
    a, b = split_lines(before), split_lines(after)
    hunks: list[Hunk] = []
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal":
            continue
        old_lines, new_lines = i2 - i1, j2 - j1
        # As in unified diffs, an empty side's start is the line before the change.
        old_start = i1 + 1 if old_lines else i1
        new_start = j1 + 1 if new_lines else j1
        hunks.append(
            Hunk(
                index=len(hunks),
                old_start=old_start,
                old_lines=old_lines,
                new_start=new_start,
                new_lines=new_lines,
                header=f"@@ -{old_start},{old_lines} +{new_start},{new_lines} @@",
            )
        )
    return hunks


def unified_diff(before: str, after: str, path: str, *, created: bool, deleted: bool) -> str:
    """A git-style unified diff of one file (3 lines of context)."""
    old_name = "/dev/null" if created else f"a/{path}"
    new_name = "/dev/null" if deleted else f"b/{path}"
    lines = difflib.unified_diff(
        split_lines(before), split_lines(after), fromfile=old_name, tofile=new_name
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def apply_hunks(before: str, after: str, chosen: Iterable[int]) -> str:
    """``before`` with only the hunks whose index is in ``chosen`` taken from ``after``."""
    wanted = set(chosen)
    a, b = split_lines(before), split_lines(after)
    out: list[str] = []
    index = 0
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal":
            out += a[i1:i2]
            continue
        out += b[j1:j2] if index in wanted else a[i1:i2]
        index += 1
    return "".join(out)


def hunks_in_text(before: str, after: str, applied: Iterable[int], current: str) -> dict[int, bool]:
    """Which version of each hunk ``current`` holds where the hunk belongs: True for the new
    lines, False for the old ones. ``applied`` names the hunks the file was given; a hunk whose
    place cannot be told (the user edited around it) or that holds neither is left out."""
    taken = set(applied)
    a, b = split_lines(before), split_lines(after)
    expected: list[str] = []
    regions: dict[int, tuple[int, int, list[str], list[str]]] = {}
    index = 0
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal":
            expected += a[i1:i2]
            continue
        start = len(expected)
        expected += b[j1:j2] if index in taken else a[i1:i2]
        regions[index] = (start, len(expected), a[i1:i2], b[j1:j2])
        index += 1
    lines = split_lines(current)
    matched = {
        i1 + k: j1 + k
        for tag, i1, i2, j1, _ in opcodes(expected, lines)
        if tag == "equal"
        for k in range(i2 - i1)
    }
    found: dict[int, bool] = {}
    for hunk, (start, end, old, new) in regions.items():
        first = 0 if start == 0 else matched.get(start - 1, -2) + 1
        last = len(lines) if end == len(expected) else matched.get(end, -1)
        if first < 0 or last < first:
            continue
        held = lines[first:last]
        if held == new:
            found[hunk] = True
        elif held == old:
            found[hunk] = False
    return found


def map_line(before: str, current: str, line: int) -> int:
    """Where 0-based ``line`` of ``before`` is in ``current`` (the user may have edited)."""
    if before == current:
        return line
    a, b = split_lines(before), split_lines(current)
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if i1 <= line < i2 or (i1 == i2 == line):
            return j1 + min(line - i1, max(j2 - j1 - 1, 0)) if tag == "equal" else j1
    return len(b)


def decided(hunks: Sequence[Hunk]) -> ChangeStatus | None:
    """The change's status once every hunk is decided (None while some are open)."""
    statuses = {h.status for h in hunks}
    if not hunks or ChangeStatus.PROPOSED in statuses:
        return None
    if ChangeStatus.APPLIED in statuses:
        return ChangeStatus.APPLIED
    return ChangeStatus.REJECTED


def with_status(hunk: Hunk, status: ChangeStatus) -> Hunk:
    """The same hunk in another state."""
    return msgspec.structs.replace(hunk, status=status)
