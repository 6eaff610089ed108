"""Commit messages into queries: keep what the change is about, drop the bookkeeping.

Dropped: trailers (``Signed-off-by:``, ``Co-authored-by:``...), lines that only point at
tickets (``Closes #12``, ``Refs: https://...``), ticket prefixes (``Fixed #1234 --``,
``Fix #12:``), pull-request numbers (``(#123)``), leading branch tags (``[5.0.x]``), bare
``#123``/``gh-123`` references, URLs, separator lines, backport notes, thank-you lines
(names, not meaning), and pull-request templates' comments and checkboxes. Kept: everything
else, including a subject's ``fix(jsx):`` or ``printer:`` scope, which is part of what a
person would write.
"""

from __future__ import annotations

import re

#: Queries are cut here (at a word boundary): DevFactory refuses queries over 2,000 characters,
#: and a long commit body is mostly detail (benchmarks, tracebacks) nobody would type.
MAX_QUERY_CHARS = 1_000

_REF = r"(?:(?:[\w.-]+/[\w.-]+)?#\d+|gh-\d+|https?://\S+)"
_TICKET_WORD = r"(?:fixed|fixes|fix|refs?|closes?|closed|resolves?|resolved)"
_REF_LIST = rf"{_REF}(?:\s*(?:,|and|&)?\s*(?:{_TICKET_WORD}\s*:?\s*)?{_REF})*"
_TRAILER = re.compile(
    r"^\s*(?:[A-Za-z][\w-]*-(?:by|on|sha)|Cc|Change-Id|Backport-of|git-svn-id)\s*:", re.IGNORECASE
)
_REF_ONLY_LINE = re.compile(
    r"^\s*(?:(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?|refs?|see(?: also)?|related(?: to)?"
    r"|part of|issues?|bug|ticket|pr)\b\s*:?\s*|[A-Za-z][\w-]*:\s*)?"
    rf"{_REF_LIST}\s*\.?\s*$",
    re.IGNORECASE,
)
_THANKS = re.compile(r"^\s*(?:thanks|thank you)\b", re.IGNORECASE)
_BOOKKEEPING = re.compile(
    r"^\s*(?:backport of [0-9a-f]{7,40} from \S+|\(cherry picked from commit [0-9a-f]{7,40}\)"
    r"|this reverts commit [0-9a-f]{7,40})\.?\s*$",
    re.IGNORECASE,
)
_TICKET_PREFIX = re.compile(
    rf"^{_TICKET_WORD}\s+#?\d+(?:\s*(?:,|and|&)\s*(?:{_TICKET_WORD}\s+)?#?\d+)*"
    r"\s*(?:--|\u2014|\u2013|:|-)\s*",  # --, em dash, en dash, colon, hyphen
    re.IGNORECASE,
)
_BRANCH_TAG = re.compile(
    r"^\s*\[(?:\d+(?:\.\d+)*(?:\.x)?|stable/[\w.]+|skip ci|ci skip|wip)\]\s*", re.IGNORECASE
)
_PR_NUMBER = re.compile(rf"\s*\((?:{_REF_LIST})\)")
_BARE_REF = re.compile(rf"(?<![\w/]){_REF}")
_SEPARATOR = re.compile(r"^\s*[-=*_#]{3,}\s*$")
_SPACE = re.compile(r"[ \t]+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_CHECKBOX = re.compile(r"^\s*[-*] \[[ xX]\]")
#: A pull-request template's checklist runs to the end of the message.
_CHECKLIST = re.compile(r"^\s*#+\s*checklist\b", re.IGNORECASE)
_DROPPED_LINES = (_TRAILER, _REF_ONLY_LINE, _THANKS, _BOOKKEEPING, _SEPARATOR, _CHECKBOX)
_BLANK_RUN = re.compile(r"\n{3,}")


def clean_subject(subject: str) -> str:
    """A commit's first line as a query: no branch tag, ticket prefix or PR number."""
    text = subject.strip()
    while (tagged := _BRANCH_TAG.sub("", text, count=1)) != text:
        text = tagged
    text = _TICKET_PREFIX.sub("", text, count=1)
    return _tidy(text)


def clean_message(message: str) -> str:
    """The whole message as a query: the cleaned subject, then the body's meaningful lines."""
    lines = _HTML_COMMENT.sub("", message).strip().splitlines()
    if not lines:
        return ""
    kept = [clean_subject(lines[0])]
    for line in lines[1:]:
        if _CHECKLIST.match(line):
            break
        if any(pattern.match(line) for pattern in _DROPPED_LINES):
            continue
        kept.append(_tidy(line))
    text = "\n".join(kept)
    text = _BLANK_RUN.sub("\n\n", text).strip()
    return _truncate(text, MAX_QUERY_CHARS)


def _tidy(text: str) -> str:
    text = _PR_NUMBER.sub("", text)
    text = _BARE_REF.sub("", text)
    return _SPACE.sub(" ", text).strip()


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return cut[:space].rstrip() if space > 0 else cut
