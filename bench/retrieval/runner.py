"""Replaying mined tasks: per repository, oldest parent first, every ranking on the same tree.

For each task the checkout moves to the parent, DevFactory's index catches up and is checked
against the tree, the baselines re-read the changed blobs, and every ranking answers the same
query. DevFactory's index is built from scratch for every task by default; with an
incremental index, the last task of each repository is also answered from a fresh one, to
show how far the incremental index has drifted.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .baselines import SourceTokens, WholeFileBM25, term_count_rank
from .corpus import Checkout
from .devfactory_index import CHUNKS, MODES, CachedEmbedder, DevFactoryIndex, Search
from .files import is_source
from .mining import Task

BASELINES = ("bm25", "terms")
SOURCE_ONLY = " (source-only)"


def ranking_names(modes: Sequence[str]) -> list[str]:
    """The rankings a run with ``modes`` reports, baselines first."""
    names = [mode for mode in modes if mode in BASELINES]
    for mode in modes:
        if mode in MODES:
            names += [mode, mode + SOURCE_ONLY]
    return names


@dataclass
class RunOptions:
    work: Path
    """Checkouts, DevFactory databases and the embedder's cache (outside this repository)."""
    modes: Sequence[str]
    query: str = "query"
    """Which task field is the query: ``query`` (the cleaned message) or ``subject``."""
    index: str = "fresh"
    """``fresh``: a new DevFactory index per task; ``incremental``: one per repository, moved
    with the checkout (faster, but its BM25 statistics drift, see :mod:`.devfactory_index`)."""
    fresh_check: bool = True
    """With ``incremental``: answer each repository's last task from a fresh index too."""
    chunks: int = CHUNKS
    """Hits asked for per query (more than 50 also deepens hybrid's fusion)."""
    indexes: Path | None = None
    """Where each task's finished index is kept (``TASK.sqlite``), or read from."""
    reuse: bool = False
    """Search the kept index of each task instead of indexing (ranking changes only)."""


class DevFactorySide:
    """DevFactory's index of one repository's checkout, fresh per task or incremental."""

    def __init__(self, checkout: Checkout, options: RunOptions) -> None:
        from devfactory.server.index.embedders import WordLlamaEmbedder

        self.checkout = checkout
        self.options = options
        self.state = options.work / "state" / checkout.root.name
        self.cache = options.work / "cache"
        self.embedder = CachedEmbedder(WordLlamaEmbedder(self.cache))
        self.index: DevFactoryIndex | None = None
        self.updates: list[dict[str, Any]] = []

    async def answer(
        self, tree: dict[str, Any], query: str, modes: Sequence[str], result: dict[str, Any]
    ) -> None:
        """Bring the index to the checked-out tree, check it, and run the query in each mode."""
        kept = self.options.indexes / f"{result['id']}.sqlite" if self.options.indexes else None
        if self.options.index == "fresh" or self.options.reuse:
            await self.close()
            shutil.rmtree(self.state, ignore_errors=True)
        if self.options.reuse:
            assert kept is not None, "reuse needs the folder of kept indexes"
            self.state.mkdir(parents=True)
            shutil.copyfile(kept, self.state / "db.sqlite")
        index = await self._open()
        if self.options.reuse:
            await index.ready()
        else:
            update = await index.update()
            await index.verify(tree)
            self.updates.append(update)
            result["prep_seconds"]["devfactory"] = update["seconds"]
        for mode in modes:
            _record(result, mode, await index.search(query, mode, self.options.chunks))
        if kept is not None and not self.options.reuse:
            await self.close()
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.state / "db.sqlite", kept)

    async def fresh_check(self, task: Task) -> dict[str, Any]:
        """Answer ``task`` again from an index built from scratch; compare chunk by chunk."""
        if self.index is None:  # closed after each task when its index is kept
            await (await self._open()).ready()
        assert self.index is not None
        query = getattr(task, self.options.query)
        scratch = Path(tempfile.mkdtemp(prefix="devfactory-retrieval-fresh-"))
        try:
            fresh = await DevFactoryIndex.open(self.checkout.root, scratch, self.cache)
            try:
                update = await fresh.update()
                same = {}
                for mode in MODES:
                    incremental = await self.index.search(query, mode, self.options.chunks)
                    cold = await fresh.search(query, mode, self.options.chunks)
                    same[mode] = _chunks(incremental) == _chunks(cold)
            finally:
                await fresh.close()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return {"task": task.id, "cold_index_seconds": update["seconds"], "identical": same}

    async def _open(self) -> DevFactoryIndex:
        if self.index is None:
            self.index = await DevFactoryIndex.open(
                self.checkout.root, self.state, self.cache, self.embedder
            )
        return self.index

    async def close(self) -> None:
        if self.index is not None:
            await self.index.close()
            self.index = None


async def run_repo(
    git_dir: Path, tasks: Sequence[Task], options: RunOptions
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every task of one repository: per-task results and the repository's run facts."""
    checkout = Checkout(git_dir, options.work / "checkouts" / tasks[0].repo.replace("/", "+"))
    checkout.prepare()
    wanted = [mode for mode in options.modes if mode in MODES]
    devfactory = DevFactorySide(checkout, options) if wanted else None
    tokens = SourceTokens()
    results = []
    facts: dict[str, Any] = {"index": options.index}
    ordered = sorted(tasks, key=lambda task: (task.date, task.id))
    try:
        for number, task in enumerate(ordered, start=1):
            started = time.perf_counter()
            checkout.switch(task.parent)
            tree = checkout.tree(task.parent)
            result: dict[str, Any] = {
                "id": task.id,
                "repo": task.repo,
                "answers": list(task.answers),
                "rankings": {},
                "seconds": {},
                "hits": {},
                "prep_seconds": {"checkout": time.perf_counter() - started},
            }
            query = getattr(task, options.query)
            if devfactory is not None:
                await devfactory.answer(tree, query, wanted, result)
            if any(mode in BASELINES for mode in options.modes):
                _baselines(result, tokens, checkout.root, tree, query, options.modes)
            results.append(result)
            print(
                f"  {task.repo} {number}/{len(ordered)} {task.id}: "
                + ", ".join(f"{n} {_first(result, n)}" for n in result["rankings"]),
                file=sys.stderr,
                flush=True,
            )
            facts["files"] = len(tree)
            facts["source_files"] = sum(1 for path in tree if is_source(path))
        if devfactory is not None:
            facts["updates"] = devfactory.updates
            if options.index == "incremental" and options.fresh_check:
                facts["fresh_check"] = await devfactory.fresh_check(ordered[-1])
    finally:
        if devfactory is not None:
            await devfactory.close()
    return results, facts


def _record(result: dict[str, Any], mode: str, search: Search) -> None:
    files = search.files
    result["rankings"][mode] = files
    result["rankings"][mode + SOURCE_ONLY] = [path for path in files if is_source(path)]
    result["seconds"][mode] = result["seconds"][mode + SOURCE_ONLY] = search.seconds
    result["hits"][mode] = [
        [hit.path, hit.start_line, hit.end_line, hit.symbol, hit.source_type, hit.score]
        for hit in search.hits
    ]


def _baselines(
    result: dict[str, Any],
    tokens: SourceTokens,
    root: Path,
    tree: dict[str, Any],
    query: str,
    modes: Sequence[str],
) -> None:
    started = time.perf_counter()
    files = tokens.corpus(root, tree)
    read = time.perf_counter() - started
    if "bm25" in modes:
        started = time.perf_counter()
        bm25 = WholeFileBM25(files)
        result["prep_seconds"]["bm25"] = read + time.perf_counter() - started
        started = time.perf_counter()
        result["rankings"]["bm25"] = bm25.rank(query)
        result["seconds"]["bm25"] = time.perf_counter() - started
    if "terms" in modes:
        result["prep_seconds"]["terms"] = read
        started = time.perf_counter()
        result["rankings"]["terms"] = term_count_rank(files, query)
        result["seconds"]["terms"] = time.perf_counter() - started


def _first(result: dict[str, Any], name: str) -> str:
    """Where the first answer file landed in ranking ``name`` (for the progress line)."""
    ranking = result["rankings"][name]
    ranks = [ranking.index(path) + 1 for path in result["answers"] if path in ranking]
    return str(min(ranks)) if ranks else "-"


def _chunks(search: Search) -> list[tuple[str, int, int, float]]:
    return [(h.path, h.start_line, h.end_line, round(h.score, 5)) for h in search.hits]


def run(tasks: Sequence[Task], git_dirs: dict[str, Path], options: RunOptions) -> dict[str, Any]:
    """All repositories, one after the other; results and per-repository facts."""
    results: list[dict[str, Any]] = []
    facts: dict[str, Any] = {}
    for repo, git_dir in git_dirs.items():
        chosen = [task for task in tasks if task.repo == repo]
        if not chosen:
            continue
        started = time.perf_counter()
        repo_results, repo_facts = asyncio.run(run_repo(git_dir, chosen, options))
        repo_facts["seconds"] = time.perf_counter() - started
        results += repo_results
        facts[repo] = repo_facts
    return {"results": results, "repos": facts}
