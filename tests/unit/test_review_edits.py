"""The line edits an approved hunk sends to an open editor: they turn the buffer into the
target, and never address the line past a final newline (Neovim has no such line and would
append a blank one)."""

from __future__ import annotations

import pytest

from devfactory.server.review.applying import text_edits
from support import apply_text_edits

CASES = [
    ("append after the last line", "A = 1\n", "A = 1\nB = 2\n"),
    ("append several lines", "A = 1\n", "A = 1\nB = 2\nC = 3\n"),
    ("append to a CRLF file", "A = 1\r\n", "A = 1\r\nB = 2\r\n"),
    ("append to a file without final newline", "A = 1", "A = 1\nB = 2"),
    ("append without a final newline", "A = 1\n", "A = 1\nB = 2"),
    ("fill an empty file", "", "NEW = True\n"),
    ("fill a blank buffer", "\n", "NEW = True\n"),
    ("replace the last line", "A = 1\nB = 2\n", "A = 1\nB = 3\n"),
    ("insert in the middle", "A = 1\nC = 3\n", "A = 1\nB = 2\nC = 3\n"),
    ("append after a wide character", "É = 'ü'\n", "É = 'ü'\nB = 2\n"),
]


@pytest.mark.parametrize(("current", "target"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_edits_turn_the_buffer_into_the_target(current: str, target: str) -> None:
    assert apply_text_edits(current, text_edits(current, target)) == target


@pytest.mark.parametrize(("current", "target"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_no_edit_starts_past_the_last_line_of_a_newline_terminated_text(
    current: str, target: str
) -> None:
    lines = current.splitlines(keepends=True)
    for edit in text_edits(current, target):
        if lines and lines[-1].endswith("\n") and target.endswith(("\n", "\r\n")):
            assert edit.range.start.line < len(lines), edit
