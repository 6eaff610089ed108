"""File-level scores of a ranking against a task's answer files, and their averages.

- recall@k: the share of the answer files among the first k files;
- acc@5: 1 when any answer file is among the first 5;
- MRR: the mean of 1 / rank of the first answer file (0 when none is ranked);
- seconds: the median time to rank one task (means hide the odd slow query).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

CUTOFFS = (1, 5, 10)
METRICS = ("recall@1", "recall@5", "recall@10", "acc@5", "mrr")


def score(ranking: Sequence[str], answers: Iterable[str]) -> dict[str, float]:
    """The metrics of one ranked file list."""
    wanted = set(answers)
    if not wanted:
        raise ValueError("a task needs at least one answer file")
    positions = [rank for rank, path in enumerate(ranking, start=1) if path in wanted]
    scores = {f"recall@{k}": sum(1 for p in positions if p <= k) / len(wanted) for k in CUTOFFS}
    scores["acc@5"] = 1.0 if positions and positions[0] <= 5 else 0.0
    scores["mrr"] = 1 / positions[0] if positions else 0.0
    return scores


def aggregate(rows: Sequence[dict[str, float]], seconds: Sequence[float]) -> dict[str, float]:
    """Means of the metrics over tasks, the median seconds, and the task count."""
    summary = {name: statistics.fmean(row[name] for row in rows) for name in METRICS}
    summary["seconds"] = statistics.median(seconds) if seconds else 0.0
    summary["tasks"] = len(rows)
    return summary


def summarize(results: Sequence[dict[str, Any]], rankings: Sequence[str]) -> dict[str, Any]:
    """Per ranking: overall and per-repository figures from the per-task results."""
    repos = sorted({result["repo"] for result in results})
    table: dict[str, Any] = {}
    for name in rankings:
        scope: dict[str, Any] = {}
        for repo in [None, *repos]:
            chosen = [r for r in results if repo is None or r["repo"] == repo]
            rows = [score(r["rankings"][name], r["answers"]) for r in chosen]
            seconds = [r["seconds"][name] for r in chosen if name in r["seconds"]]
            scope[repo or "overall"] = aggregate(rows, seconds)
        table[name] = scope
    return table
