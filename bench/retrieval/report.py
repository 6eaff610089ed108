"""Markdown tables of a run: overall, per repository, and what preparing each corpus cost."""

from __future__ import annotations

import statistics
from typing import Any

from ..common import row

_COLUMNS = ("recall@1", "recall@5", "recall@10", "acc@5", "mrr")


def overall_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        row("ranking", *_COLUMNS, "s/task (median)", "tasks"),
        row(*["---"] * (len(_COLUMNS) + 3)),
    ]
    for name, scopes in summary.items():
        figures = scopes["overall"]
        lines.append(
            row(
                name,
                *(f"{figures[c]:.3f}" for c in _COLUMNS),
                _seconds(figures["seconds"]),
                figures["tasks"],
            )
        )
    return lines


def per_repo_table(summary: dict[str, Any], metric: str) -> list[str]:
    names = list(summary)
    repos = [scope for scope in next(iter(summary.values())) if scope != "overall"]
    lines = [row(f"{metric} by repository", *names), row(*["---"] * (len(names) + 1))]
    for repo in [*repos, "overall"]:
        tasks = summary[names[0]][repo]["tasks"]
        cells = [f"{summary[name][repo][metric]:.3f}" for name in names]
        lines.append(row(f"{repo} ({tasks})", *cells))
    return lines


def preparation_table(repos: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    """Per repository: tree size, the first (cold) DevFactory pass, then medians per task."""
    checked = any("fresh_check" in facts for facts in repos.values())
    header = [
        "repository",
        "files (source)",
        "first index + embed",
        "checkout / task",
        "DevFactory index / task",
        "baselines' read + BM25 / task",
        "whole run",
    ]
    if checked:
        header += ["fresh index", "fresh ranks = incremental"]
    lines = [row(*header), row(*["---"] * len(header))]
    for repo, facts in repos.items():
        mine = [r["prep_seconds"] for r in results if r["repo"] == repo]
        updates = [u["seconds"] for u in facts.get("updates", [])]
        cells = [
            repo,
            f"{facts['files']} ({facts['source_files']})",
            _seconds(updates[0]) if updates else "-",
            _median(mine, "checkout"),
            _seconds(statistics.median(updates[1:])) if len(updates) > 1 else "-",
            _median(mine, "bm25"),
            _seconds(facts["seconds"]),
        ]
        if checked:
            fresh = facts.get("fresh_check")
            cells += [
                _seconds(fresh["cold_index_seconds"]) if fresh else "-",
                ", ".join(
                    f"{m} {'yes' if same else 'no'}" for m, same in fresh["identical"].items()
                )
                if fresh
                else "-",
            ]
        lines.append(row(*cells))
    return lines


def markdown(report: dict[str, Any]) -> str:
    summary = report["summary"]
    parts = [
        *overall_table(summary),
        "",
        *per_repo_table(summary, "recall@5"),
        "",
        *per_repo_table(summary, "mrr"),
        "",
        *preparation_table(report["repos"], report["results"]),
    ]
    return "\n".join(parts)


def _median(prep: list[dict[str, float]], key: str) -> str:
    values = [p[key] for p in prep if key in p]
    return _seconds(statistics.median(values)) if values else "-"


def _seconds(value: float) -> str:
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"
