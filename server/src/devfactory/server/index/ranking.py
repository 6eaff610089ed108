"""What a query asks for: its FTS5 expression, the traits ranking reads from it (identifiers it
names, whether it asks for tests or docs, whether it reads like a change to the code), and the
snippet shown for a hit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .subtokens import normalized, query_words, split_identifier

SYMBOL_QUERY_WORDS = 3
"""Only queries this short name a symbol by plain words ("parse url", "render"); in a longer
query only identifier-shaped words (``parse_url``, ``parseUrl``) do: a sentence's "value" or
"field" says nothing about functions that happen to be called that."""
ASKING_WORDS = 8
"""A query this short that names tests (or docs) asks for them ("tests for parse_url"); in a
longer one, a commit-message-like request, "add a test" or "update the docs" is a side note to
a change of the code."""
#: BM25 column weights: content, symbol words, path, camelCase sub-tokens.
BM25_WEIGHTS = (1.0, 3.0, 1.5, 0.5)

_TEST_WORDS = frozenset({"test", "tests", "testing", "spec", "specs", "pytest", "unittest"})
_DOC_WORDS = frozenset(
    {
        "doc",
        "docs",
        "documentation",
        "readme",
        "guide",
        "tutorial",
        "manual",
        "faq",
        "markdown",
        "changelog",
        "changelogs",
    }
)
_CHANGELOG_WORDS = frozenset({"changelog", "changelogs", "whatsnew"})
#: Words of a request to change code: "fix ...", "add support for ...", "rename ...".
_CHANGE_WORDS = frozenset(
    {
        "add",
        "adds",
        "allow",
        "avoid",
        "bump",
        "change",
        "clean",
        "cleanup",
        "convert",
        "deprecate",
        "disable",
        "drop",
        "enable",
        "ensure",
        "error",
        "fix",
        "fixed",
        "fixes",
        "handle",
        "ignore",
        "implement",
        "improve",
        "make",
        "move",
        "optimize",
        "prevent",
        "raise",
        "refactor",
        "remove",
        "rename",
        "replace",
        "return",
        "revert",
        "simplify",
        "skip",
        "speed",
        "support",
        "update",
        "use",
    }
)


COMMON_FLOOR = 1_000
"""A query word more than this many chunks hold is common: it adds to the score of the chunks
the query's rarer words find, and finds none itself. A count, not a share of the index: what a
word costs FTS5 (scoring each chunk it finds) grows with its chunks, whatever the index's size.
Below 100k chunks this is what a share of 1% was; at 4x Django (245,840 chunks) it cut lexical
p95 by a fifth to two fifths with the same quality (docs/benchmarks.md)."""


class QueryTerm(NamedTuple):
    expression: str
    """The term as FTS5 syntax: a quoted word or phrase, or an OR-group of them."""
    word: str | None
    """The single indexed word it stands for; None for a phrase or a group (never common)."""


class LexicalQuery(NamedTuple):
    """An FTS5 query split in two (the storage port's ``match`` and ``also``)."""

    match: str
    """The rarer words: the chunks they find are the candidates."""
    also: str | None
    """The common words: they add to a candidate's score, and find nothing by themselves."""


def query_terms(query: str) -> list[QueryTerm]:
    """The query's words as FTS5 terms.

    ``parse_url`` becomes the phrase "parse url" (unicode61 splits at underscores), and
    ``parseUrl`` matches either its lower-cased whole or its parts as a phrase. Underscores
    only around a word (``__init__``, ``_cache``) leave the one indexed word it stands for,
    which may be common: as a phrase it would always find candidates, every ``__init__``.
    """
    terms = []
    for written in query_words(query):
        bare = written.strip("_")
        word = bare if bare and "_" not in bare else written
        parts = split_identifier(word)
        lowered = word.lower()
        if "_" not in word and len(parts) > 1:
            terms.append(QueryTerm(f'("{lowered}" OR "{" ".join(parts)}")', None))
        else:
            single = "_" not in word and len(parts) == 1
            terms.append(QueryTerm(f'"{lowered}"', lowered if single else None))
    return terms


def fts_expression(query: str) -> str | None:
    """An FTS5 OR-expression over the query's words (``None`` when nothing is searchable)."""
    terms = query_terms(query)
    return " OR ".join(term.expression for term in terms) if terms else None


def common_words_split(
    terms: Sequence[QueryTerm], counts: Mapping[str, int]
) -> LexicalQuery | None:
    """Split the terms into the rarer ones, which find the candidates, and the common ones,
    which only score them (``counts``: how many chunks hold each word).

    A sentence's common words ("return", "value", "model") each match a large share of a big
    index, and FTS5 scores every chunk an OR-query matches before it keeps the best: at 250k
    chunks that is most of the index. A chunk holding only common words scores low (their IDF
    is small), so it is not a candidate; the candidates' scores are the whole query's. When
    every word is common, the rarest one finds the candidates.
    """
    if not terms:
        return None

    def count(term: QueryTerm) -> int:
        return -1 if term.word is None else counts.get(term.word, 0)

    common = [term for term in terms if count(term) > COMMON_FLOOR]
    rare = [term for term in terms if count(term) <= COMMON_FLOOR]
    if not rare:
        rarest = min(common, key=count)
        rare = [term for term in common if term.word == rarest.word]
        common = [term for term in common if term.word != rarest.word]
    return LexicalQuery(
        " OR ".join(term.expression for term in rare),
        " OR ".join(term.expression for term in common) or None,
    )


class QueryTraits:
    """What ranking needs to know about a query."""

    def __init__(self, query: str) -> None:
        words = query_words(query)
        lowered = {word.lower() for word in words}
        self.short = len(words) <= SYMBOL_QUERY_WORDS
        self.identifiers = {
            normalized(word) for word in words if self.short or len(split_identifier(word)) > 1
        }
        self.parts = {part for word in words for part in split_identifier(word)}
        asking = len(words) <= ASKING_WORDS
        self.wants_tests = asking and bool(lowered & _TEST_WORDS)
        """The query asks for tests: they are not ranked down."""
        self.wants_docs = asking and bool(lowered & _DOC_WORDS)
        """The query asks for documentation: it is not ranked down."""
        self.wants_changelog = asking and bool(
            lowered & _CHANGELOG_WORDS or {"release", "notes"} <= lowered
        )
        """The query asks for the changelog or release notes (ranked down otherwise)."""
        self.changes_code = not self.wants_docs and (
            len(words) > ASKING_WORDS
            or bool(lowered & _CHANGE_WORDS)
            or any(_identifier_shaped(word) for word in words)
        )
        """The query reads like a change to the code (a commit message, "fix parse_url"), or
        names code: documentation ranks lower. A plain question ("how are proxies
        configured") leaves docs where they rank."""

    def names_symbol(self, name: str | None) -> bool:
        """The query names this definition: ``parse_url`` for ``parseUrl``, or all its parts;
        and, when it asks for tests, ``test_parse_url`` for "tests for parse_url"."""
        if not name:
            return False
        parts = split_identifier(name)
        if self.wants_tests and len(parts) > 1 and parts[0] == "test":
            parts = parts[1:]
            name = "".join(parts)
        if normalized(name) in self.identifiers:
            return True
        return self.short and len(parts) > 1 and set(parts) <= self.parts


def _identifier_shaped(word: str) -> bool:
    """``parse_url``, ``parseUrl``, ``HTTPServer``: a name from code, not an English word."""
    return "_" in word.strip("_") or len(split_identifier(word)) > 1


def snippet(content: str, traits: QueryTraits, lines: int = 20) -> str:
    """The chunk, or for a long one the ``lines`` lines around the best-matching line."""
    text_lines = content.split("\n")
    if len(text_lines) <= lines:
        return content
    lowered = content.lower()
    # Only the query's words the chunk holds at all are looked for line by line: a commit
    # message has dozens of words, a chunk a handful of them.
    wanted = [word for word in traits.parts | traits.identifiers if word in lowered]
    best, best_hits = 0, -1
    for index, line in enumerate(lowered.split("\n")):
        hits = sum(1 for word in wanted if word in line)
        if hits > best_hits:
            best, best_hits = index, hits
    first = max(0, min(best - lines // 4, len(text_lines) - lines))
    return "\n".join(text_lines[first : first + lines])
