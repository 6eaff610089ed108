"""Which version of each hunk a text holds: how the daemon tells an undone apply (or a redo)
from the user's other edits."""

from __future__ import annotations

import pytest

from devfactory.server.review.hunks import apply_hunks, hunks_in_text

BEFORE = "a\nb\nc\nd\ne\nf\ng\n"
AFTER = "a\nB\nc\nd\ne\nF\nF2\ng\n"


@pytest.mark.parametrize(
    ("before", "after", "applied", "current", "expected"),
    [
        (BEFORE, AFTER, set(), BEFORE, {0: False, 1: False}),
        (BEFORE, AFTER, {0, 1}, AFTER, {0: True, 1: True}),
        (BEFORE, AFTER, {0, 1}, apply_hunks(BEFORE, AFTER, {0}), {0: True, 1: False}),
        (BEFORE, AFTER, {0}, apply_hunks(BEFORE, AFTER, {0, 1}), {0: True, 1: True}),
        (BEFORE, AFTER, {0, 1}, AFTER.replace("B", "X"), {1: True}),
        (BEFORE, AFTER, {0, 1}, "z\n" + AFTER, {0: True, 1: True}),
        ("a\nb\n", "a\nx\nb\n", {0}, "a\nb\n", {0: False}),
        ("a\nb\n", "a\nx\nb\n", set(), "a\nx\nb\n", {0: True}),
        ("a\nx\nb\n", "a\nb\n", {0}, "a\nx\nb\n", {0: False}),
        ("", "x\ny\n", {0}, "", {0: False}),
        ("a\n", "a\nb\n", {0}, "a\n", {0: False}),
        ("a\r\nb\r\n", "a\r\nB\r\n", {0}, "a\r\nb\r\n", {0: False}),
    ],
    ids=[
        "nothing-applied",
        "all-applied",
        "second-undone",
        "second-redone",
        "edited-over-the-first",
        "edited-elsewhere",
        "insertion-undone",
        "insertion-typed",
        "deletion-undone",
        "created-then-emptied",
        "append-at-end-undone",
        "crlf",
    ],
)
def test_hunks_in_text(
    before: str, after: str, applied: set[int], current: str, expected: dict[int, bool]
) -> None:
    assert hunks_in_text(before, after, applied, current) == expected
