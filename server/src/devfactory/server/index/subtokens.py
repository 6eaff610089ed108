"""Identifier sub-tokens, so ``parse_url``, ``parseUrl`` and "parse url" find each other.

SQLite's unicode61 tokenizer already splits ``parse_url`` at the underscore; what it cannot do
is split ``parseUrl`` or ``HTTPServer``. Chunks carry those parts in a separate FTS column, and
queries are rewritten the same way.
"""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"\w+")
# A lower-case letter followed by an upper-case one: the mark of a camelCase word. (A single
# character-class pair is what the regex engine scans fastest; acronym-only words like
# HTTPServer are split only when they also contain such a mark.)
_CAMEL_MARK = re.compile(r"[a-z][A-Z]")
_IDENT_TAIL = re.compile(r"[A-Za-z0-9]*")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "which",
        "will",
        "with",
        "not",
        "no",
        "can",
        "do",
        "does",
        "how",
        "what",
        "when",
        "where",
        "who",
        "why",
        "all",
        "any",
    ]
)


@functools.lru_cache(maxsize=65_536)
def split_identifier(word: str) -> tuple[str, ...]:
    """Lower-case parts of an identifier: ``parseURLFast_v2`` -> parse, url, fast, v, 2."""
    return tuple(part.lower() for part in _PARTS.findall(word))


def camel_subtokens(text: str) -> str:
    """The parts of every camelCase identifier in ``text``, space-separated, each word once."""
    seen: dict[str, None] = {}
    mark = _CAMEL_MARK.search(text)
    while mark is not None:
        start = mark.start()
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        end = _IDENT_TAIL.match(text, mark.end()).end()  # type: ignore[union-attr]
        seen[text[start:end]] = None
        # The marks up to ``end`` are this word's own (``getElementById``): the same word.
        mark = _CAMEL_MARK.search(text, end)
    return " ".join(" ".join(split_identifier(word)) for word in seen)


def symbol_tokens(symbol: str | None) -> str:
    """A qualified symbol as FTS text: its parts, with each part's sub-tokens."""
    if not symbol:
        return ""
    return _symbol_tokens(symbol)


@functools.lru_cache(maxsize=16_384)
def _symbol_tokens(symbol: str) -> str:
    words = _WORD.findall(symbol)
    return " ".join(words + [" ".join(split_identifier(w)) for w in words])


def query_words(query: str) -> list[str]:
    """The words of a query worth searching for, in order, without stopwords or repeats."""
    words: dict[str, None] = {}
    for word in _WORD.findall(query):
        if word.lower() not in STOPWORDS:
            words[word] = None
    return list(words)


def normalized(name: str) -> str:
    """``parse_url``, ``parseUrl`` and ``ParseURL`` all become ``parseurl``."""
    return name.replace("_", "").lower()
