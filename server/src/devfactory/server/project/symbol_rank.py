"""Which definitions matter most: a PageRank over the workspace's reference graph.

Files are nodes; a file that mentions a name defined in another file links to it, weighted by
how often. A symbol's rank is the rank flowing into it from the files that reference it (in
the spirit of aider's repository map). Pure and deterministic: equal inputs, equal output.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from devfactory.storage.ports import ChunkRow

from ..index.chunker import module_name

DAMPING = 0.85
ITERATIONS = 30
#: Names this short or this common say nothing about which definition is meant.
MIN_NAME_LENGTH = 3
MAX_DEFINITIONS_PER_NAME = 5
#: Top-level definitions only: a method's or nested function's bare name (``run``, ``get``)
#: cannot be told apart from every other one with that name by text alone.
RANKED_KINDS = frozenset({"class", "function", "interface", "trait", "struct", "enum", "type"})
#: Plain lower-case words (``request``, ``default``) are mostly other things' names too; long
#: identifier-shaped names (``get_object_or_404``, ``QuerySet``) almost never are.
PLAIN_WORD_WEIGHT = 0.1
SHORT_IDENTIFIER_WEIGHT = 0.5
DISTINCTIVE_LENGTH = 8
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class RankedSymbol:
    symbol: str
    name: str
    kind: str
    path: str
    line: int
    references: int
    """Mentions in other files."""
    score: float


def rank_symbols(chunks: Iterable[ChunkRow], limit: int = 40) -> list[RankedSymbol]:
    """The ``limit`` most referenced definitions, best first."""
    definitions: dict[str, dict[str, ChunkRow]] = defaultdict(dict)  # name -> path -> chunk
    text_by_file: dict[str, list[str]] = defaultdict(list)
    for chunk in chunks:
        if chunk.source_type != "code":
            continue
        text_by_file[chunk.path].append(chunk.content)
        if (
            chunk.name
            and chunk.kind in RANKED_KINDS
            and len(chunk.name) >= MIN_NAME_LENGTH
            and not chunk.name.startswith("_")
            and chunk.symbol == f"{module_name(chunk.path)}.{chunk.name}"
        ):
            definitions[chunk.name].setdefault(chunk.path, chunk)
    defined = {
        name: paths for name, paths in definitions.items() if len(paths) <= MAX_DEFINITIONS_PER_NAME
    }
    # mentions[file][name] = count, for names defined elsewhere
    mentions: dict[str, Counter[str]] = {}
    for path in sorted(text_by_file):
        counts = Counter(
            word for word in _WORD.findall("\n".join(text_by_file[path])) if word in defined
        )
        mentions[path] = Counter(
            {name: n for name, n in counts.items() if set(defined[name]) != {path}}
        )
    rank = _pagerank(mentions, defined)
    scores: dict[tuple[str, str], float] = defaultdict(float)
    references: Counter[tuple[str, str]] = Counter()
    for source in sorted(mentions):
        for name, count in sorted(mentions[source].items()):
            targets = [p for p in sorted(defined[name]) if p != source]
            for target in targets:
                scores[(name, target)] += rank[source] * _strength(name, count) / len(targets)
                references[(name, target)] += count
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    result = []
    for (name, path), score in ranked:
        chunk = defined[name][path]
        result.append(
            RankedSymbol(
                symbol=chunk.symbol or name,
                name=name,
                kind=chunk.kind or "",
                path=path,
                line=chunk.start_line,
                references=references[(name, path)],
                score=score,
            )
        )
    return result


def _weight(name: str) -> float:
    if name.islower() and "_" not in name:
        return PLAIN_WORD_WEIGHT
    return 1.0 if len(name) >= DISTINCTIVE_LENGTH else SHORT_IDENTIFIER_WEIGHT


def _strength(name: str, count: int) -> float:
    """How much ``count`` mentions of ``name`` say: the square root, so one file repeating a
    name a hundred times does not outweigh ten files using it (as aider's map does)."""
    return _weight(name) * math.sqrt(count)


def _pagerank(
    mentions: dict[str, Counter[str]], defined: dict[str, dict[str, ChunkRow]]
) -> dict[str, float]:
    nodes = sorted(set(mentions) | {p for paths in defined.values() for p in paths})
    if not nodes:
        return {}
    edges: dict[str, dict[str, float]] = {}
    for source, counts in mentions.items():
        out: dict[str, float] = defaultdict(float)
        for name, count in counts.items():
            targets = [p for p in defined[name] if p != source]
            for target in targets:
                out[target] += _strength(name, count) / len(targets)
        edges[source] = out
    size = len(nodes)
    rank = dict.fromkeys(nodes, 1.0 / size)
    for _ in range(ITERATIONS):
        incoming = dict.fromkeys(nodes, (1.0 - DAMPING) / size)
        dangling = 0.0
        for node in nodes:
            links = edges.get(node) or {}
            total = sum(links.values())
            if not total:
                dangling += rank[node]
                continue
            for target, weight in links.items():
                incoming[target] += DAMPING * rank[node] * weight / total
        share = DAMPING * dangling / size
        rank = {node: value + share for node, value in incoming.items()}
    return rank
