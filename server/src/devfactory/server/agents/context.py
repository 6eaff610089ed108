"""The context a run starts with: what the project is, and the code most relevant to the task."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from devfactory.protocol.enums import EventType, SearchGroupBy, SearchMode
from devfactory.protocol.events import (
    ContextLoaded,
    RagSearchCompleted,
    RagSearchStarted,
    SearchHitRef,
)
from devfactory.protocol.index import SearchParams, SearchResult

from ..safefs import FileTooLarge, PathRefused, SafeTree

MAP_FILE = "PROJECT_MAP.md"
MAX_MAP_CHARS = 6_000
MAX_MAP_BYTES = 1024 * 1024
RAG_FILES = 4
"""Files the context step shows: the ones the task most likely touches (file-first ranking,
docs/benchmarks.md), not six windows of the one best file."""
RAG_CHUNKS_PER_FILE = 2

Emit = Callable[..., Awaitable[Any]]
Search = Callable[[SearchParams], Awaitable[SearchResult]]


def hit_refs(result: SearchResult) -> list[SearchHitRef]:
    """Where the hits of a search are, for a rag_search_completed event."""
    return [
        SearchHitRef(
            path=h.path,
            start_line=h.start_line,
            end_line=h.end_line,
            symbol=h.symbol,
            score=h.score,
        )
        for h in result.all_hits()
    ]


async def load_context(
    *, emit: Emit, worktree: Path, prompt: str, rag: bool, search: Search | None
) -> str:
    """Build the context message; records rag_search_* and ai_context_loaded events."""
    sections: list[str] = []
    files: list[str] = []
    try:  # a command of the run may have made it a link to anything: never follow it
        project_map = SafeTree(worktree).read(MAP_FILE, MAX_MAP_BYTES)
    except (PathRefused, FileTooLarge):
        project_map = None
    if project_map is not None:
        text = project_map.decode("utf-8", "replace")[:MAX_MAP_CHARS]
        sections.append("# Project map\n" + text)
        files.append(MAP_FILE)
    if rag and search is not None:
        await emit(
            EventType.RAG_SEARCH_STARTED, "Searching the codebase", RagSearchStarted(query=prompt)
        )
        started = time.perf_counter()
        result = await search(
            SearchParams(
                query=prompt[:500],
                limit=RAG_FILES,
                mode=SearchMode.HYBRID,
                group_by=SearchGroupBy.FILE,
                chunks_per_file=RAG_CHUNKS_PER_FILE,
            )
        )
        took = (time.perf_counter() - started) * 1000
        hits = hit_refs(result)
        await emit(
            EventType.RAG_SEARCH_COMPLETED,
            f"{len(hits)} relevant code locations",
            RagSearchCompleted(query=prompt, hits=hits, took_ms=took),
        )
        found = result.all_hits()
        if found:
            sections.append(
                "# Code that may be relevant\n"
                + "\n\n".join(
                    f"## {h.path}:{h.start_line}-{h.end_line}\n{h.snippet}" for h in found
                )
            )
            files += [h.path for h in found]
    await emit(
        EventType.AI_CONTEXT_LOADED,
        "Context loaded",
        ContextLoaded(
            files=list(dict.fromkeys(files)),
            rag=rag and search is not None,
            project_map=MAP_FILE in files,
        ),
    )
    return "\n\n".join(sections)
