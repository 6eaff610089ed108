"""``CHANGELOG_AI.md``: one entry per run, newest first.

A run proposes the file with its entry on top. Runs started from the same state all propose
their entry at the same place, so a three-way merge of the second approval would conflict;
instead the run's own entry merges into the file as it is now (``merge``): on top, replacing
the run's older one. The rest of the proposal is the run's copy of older entries, as the run
started with them or as its agent rewrote them, so the user's file keeps its own.
"""

from __future__ import annotations

import re

CHANGELOG = "CHANGELOG_AI.md"
HEADER = "# AI changelog\n\nChanges made by DevFactory runs, newest first.\n"

_RUN = re.compile(r"## Run (\d+):")


def split(text: str) -> tuple[str, list[str]]:
    """(the text before the first entry, the entries); an entry starts at its ``## Run N:``
    line and runs to the next (a summary may have headings of its own)."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _RUN.match(line)]
    if not starts:
        return text, []
    ends = [*starts[1:], len(lines)]
    entries = ["".join(lines[s:e]) for s, e in zip(starts, ends, strict=True)]
    return "".join(lines[: starts[0]]), entries


def _key(entry: str) -> int:
    """The run an entry is about."""
    match = _RUN.match(entry)
    assert match is not None, "split() starts every entry at its heading"
    return int(match.group(1))


def render(head: str, entries: list[str]) -> str:
    blocks = [head.rstrip("\n") + "\n"] if head.strip() else []
    blocks += [entry.rstrip("\n") + "\n" for entry in entries]
    return "\n".join(blocks)


def with_entry(text: str | None, entry: str) -> str:
    """``text`` (or a new changelog) with ``entry`` on top, replacing the run's older entry."""
    head, entries = split(HEADER if text is None else text)
    return render(head, [entry, *(e for e in entries if _key(e) != _key(entry))])


def merge(current: str, proposal: str, run_id: int) -> str:
    """The file as it is now with run ``run_id``'s entry from its proposal (see the module
    docstring); unchanged if the proposal has none."""
    own = next((e for e in split(proposal)[1] if _key(e) == run_id), None)
    return current if own is None else with_entry(current, own)
