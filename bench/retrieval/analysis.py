"""Why a ranking misses: what fills DevFactory's top files, and whether the answers were there.

From a results file (``python -m bench.retrieval analyze RESULTS``):
- the kinds of file in each mode's top 5 (source, test, docs, config, other code);
- how often an answer file is among the 50 chunk hits at all (the most any file ranking built
  from them could reach) and, when it is, how many of its chunks are there;
- the same 50 hits aggregated to files other ways than the daemon's first-hit order (the sum
  of a file's chunk scores, its number of chunks), as a hint of what aggregation could give;
- the tasks BM25 gets right in its top 5 and hybrid does not, with what hybrid put first.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from devfactory.protocol.enums import SourceType
from devfactory.server.index.discovery import classify

from ..common import row
from .devfactory_index import MODES
from .files import is_source, is_test
from .metrics import aggregate, score

KINDS = ("source", "test", "docs", "config", "other code")


def kind_of(path: str) -> str:
    if is_source(path):
        return "source"
    if is_test(path):
        return "test"
    source_type = classify(path)[1]
    if source_type is SourceType.DOC:
        return "docs"
    if source_type is SourceType.CONFIG:
        return "config"
    return "other code"


def top_kinds(results: list[dict[str, Any]], names: list[str], k: int = 5) -> list[str]:
    """Share of each kind of file among the first ``k`` files of each ranking."""
    lines = [row(f"top {k} files are", *KINDS), row(*["---"] * (len(KINDS) + 1))]
    for name in names:
        counts: Counter[str] = Counter()
        for result in results:
            counts.update(kind_of(path) for path in result["rankings"].get(name, [])[:k])
        total = sum(counts.values()) or 1
        lines.append(row(name, *(f"{counts[kind] / total:.0%}" for kind in KINDS)))
    return lines


def coverage(results: list[dict[str, Any]]) -> list[str]:
    """Is an answer file among the chunk hits at all, and with how many chunks?"""
    lines = [
        row("mode", "answer among the hits", "its chunks (median)", "files per 50 hits (median)"),
        row("---", "---", "---", "---"),
    ]
    for mode in MODES:
        found = 0
        chunks: list[int] = []
        files: list[int] = []
        for result in results:
            hits = result["hits"].get(mode, [])
            per_file = Counter(hit[0] for hit in hits)
            files.append(len(per_file))
            present = [per_file[path] for path in result["answers"] if path in per_file]
            if present:
                found += 1
                chunks.append(max(present))
        lines.append(
            row(
                mode,
                f"{found / max(len(results), 1):.0%}",
                _median(chunks),
                _median(files),
            )
        )
    return lines


def aggregations(results: list[dict[str, Any]]) -> list[str]:
    """File rankings from the same chunk hits: first hit (today), score sum, hit count."""
    lines = [
        row("mode", "files by", "recall@5", "MRR", "recall@5 source-only", "MRR source-only"),
        row(*["---"] * 6),
    ]
    ways = {
        "first hit (daemon)": lambda hits: list(dict.fromkeys(hit[0] for hit in hits)),
        "sum of chunk scores": lambda hits: _by_total(hits, lambda hit: hit[5]),
        "number of chunks": lambda hits: _by_total(hits, lambda hit: 1.0),
    }
    for mode in MODES:
        for way, rank in ways.items():
            plain, source_only = [], []
            for result in results:
                ranking = rank(result["hits"].get(mode, []))
                plain.append(score(ranking, result["answers"]))
                kept = [path for path in ranking if is_source(path)]
                source_only.append(score(kept, result["answers"]))
            a, b = aggregate(plain, []), aggregate(source_only, [])
            lines.append(
                row(
                    mode,
                    way,
                    f"{a['recall@5']:.3f}",
                    f"{a['mrr']:.3f}",
                    f"{b['recall@5']:.3f}",
                    f"{b['mrr']:.3f}",
                )
            )
    return lines


def _by_total(hits: list[list[Any]], weight: Any) -> list[str]:
    totals: Counter[str] = Counter()
    first: dict[str, int] = {}
    for index, hit in enumerate(hits):
        totals[hit[0]] += weight(hit)
        first.setdefault(hit[0], index)
    return sorted(totals, key=lambda path: (-totals[path], first[path]))


def bm25_wins(results: list[dict[str, Any]], limit: int = 15) -> list[str]:
    """Tasks where BM25 has an answer in its top 5 and hybrid does not."""
    lines = [
        row("task", "answer", "bm25 rank", "hybrid rank", "hybrid's first file (kind)"),
        row("---", "---", "---", "---", "---"),
    ]
    shown = 0
    for result in results:
        bm25, hybrid = result["rankings"].get("bm25"), result["rankings"].get("hybrid")
        if bm25 is None or hybrid is None:
            continue
        best_bm25, best_hybrid = _rank(bm25, result["answers"]), _rank(hybrid, result["answers"])
        if best_bm25 <= 5 < best_hybrid and shown < limit:
            first = hybrid[0] if hybrid else "-"
            lines.append(
                row(
                    result["id"],
                    ", ".join(result["answers"]),
                    best_bm25,
                    best_hybrid if best_hybrid < 10**6 else "-",
                    f"{first} ({kind_of(first)})" if hybrid else "-",
                )
            )
            shown += 1
    return lines


def analysis(report: dict[str, Any]) -> str:
    results = report["results"]
    names = [name for name in report["summary"] if "source-only" not in name]
    sections = [top_kinds(results, names), coverage(results), aggregations(results)]
    sections.append(bm25_wins(results))
    return "\n\n".join("\n".join(lines) for lines in sections)


def _rank(ranking: list[str], answers: list[str]) -> int:
    ranks = [ranking.index(path) + 1 for path in answers if path in ranking]
    return min(ranks) if ranks else 10**6


def _median(values: list[int]) -> str:
    return str(sorted(values)[len(values) // 2]) if values else "-"
