"""Turning a query into an FTS5 expression, and ranked lists into one: reciprocal-rank fusion
with a boost for symbol-name hits and a small penalty for tests unless the query asks for them.
"""

from __future__ import annotations

from collections.abc import Sequence

from devfactory.storage.ports import ChunkRow

from .discovery import looks_like_test
from .subtokens import normalized, query_words, split_identifier

RRF_K = 60
LEXICAL_WEIGHT = 1.0
SEMANTIC_WEIGHT = 0.25
"""The bundled 256-d WordLlama model is a weaker ranker than BM25 on code (see
docs/benchmarks.md): it breaks lexical ties and finds paraphrases, it does not lead."""
SYMBOL_BOOST = 0.5
"""Extra share of its score a chunk gets when its name is what the query names."""
SYMBOL_QUERY_WORDS = 3
"""Only queries this short name a symbol by plain words ("parse url", "render"); in a longer
query only identifier-shaped words (``parse_url``, ``parseUrl``) do: a sentence's "value" or
"field" says nothing about functions that happen to be called that."""
TEST_PENALTY = 0.75
#: BM25 column weights: content, symbol words, path, camelCase sub-tokens.
BM25_WEIGHTS = (1.0, 3.0, 1.5, 0.5)
_TEST_WORDS = ("test", "tests", "testing", "spec", "specs", "pytest", "unittest")


def fts_expression(query: str) -> str | None:
    """An FTS5 OR-expression over the query's words (``None`` when nothing is searchable).

    ``parse_url`` becomes the phrase "parse url" (unicode61 splits at underscores), and
    ``parseUrl`` matches either its lower-cased whole or its parts as a phrase.
    """
    terms = []
    for word in query_words(query):
        parts = split_identifier(word)
        lowered = word.lower()
        if "_" not in word and len(parts) > 1:
            terms.append(f'("{lowered}" OR "{" ".join(parts)}")')
        else:
            terms.append(f'"{lowered}"')
    return " OR ".join(terms) if terms else None


class QueryTraits:
    """What ranking needs to know about a query."""

    def __init__(self, query: str) -> None:
        words = query_words(query)
        self.short = len(words) <= SYMBOL_QUERY_WORDS
        self.identifiers = {
            normalized(word) for word in words if self.short or len(split_identifier(word)) > 1
        }
        self.parts = {part for word in words for part in split_identifier(word)}
        self.wants_tests = any(word.lower() in _TEST_WORDS for word in words)

    def names_symbol(self, name: str | None) -> bool:
        """The query names this definition: ``parse_url`` for ``parseUrl``, or all its parts."""
        if not name:
            return False
        if normalized(name) in self.identifiers:
            return True
        parts = split_identifier(name)
        return self.short and len(parts) > 1 and set(parts) <= self.parts


def fuse(
    lexical: Sequence[ChunkRow], semantic: Sequence[ChunkRow], traits: QueryTraits
) -> list[tuple[ChunkRow, float]]:
    """Reciprocal-rank fusion of two ranked lists, with the symbol boost and test penalty."""
    scores: dict[int, float] = {}
    rows: dict[int, ChunkRow] = {}
    for weight, ranked in ((LEXICAL_WEIGHT, lexical), (SEMANTIC_WEIGHT, semantic)):
        for rank, row in enumerate(ranked, start=1):
            scores[row.id] = scores.get(row.id, 0.0) + weight / (RRF_K + rank)
            rows.setdefault(row.id, row)
    fused = []
    for chunk_id, score in scores.items():
        row = rows[chunk_id]
        if traits.names_symbol(row.name):
            score *= 1 + SYMBOL_BOOST
        if not traits.wants_tests and looks_like_test(row.path):
            score *= TEST_PENALTY
        fused.append((row, score))
    fused.sort(key=lambda item: (-item[1], item[0].path, item[0].start_line))
    return fused


def snippet(content: str, traits: QueryTraits, lines: int = 20) -> str:
    """The chunk, or for a long one the ``lines`` lines around the best-matching line."""
    text_lines = content.split("\n")
    if len(text_lines) <= lines:
        return content
    wanted = traits.parts | traits.identifiers
    best, best_hits = 0, -1
    for index, line in enumerate(text_lines):
        lowered = line.lower()
        hits = sum(1 for word in wanted if word in lowered)
        if hits > best_hits:
            best, best_hits = index, hits
    first = max(0, min(best - lines // 4, len(text_lines) - lines))
    return "\n".join(text_lines[first : first + lines])
