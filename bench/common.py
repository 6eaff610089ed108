"""Shared helpers of the benchmarks: statistics, scratch repositories, table printing, and the
workspace index as the daemon's index feature drives it."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def row(*cells: object) -> str:
    """A Markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def open_index_service(
    root: Path, state: Path, embedder: str, cache_dir: Path | None = None
) -> tuple[Any, Any]:
    """``(Store, IndexService)`` for ``root``, its database under ``state``, watching off.

    ``cache_dir`` holds the embedder's files (``state/cache`` unless shared between indexes).
    """
    from devfactory.protocol.settings import IndexSettings
    from devfactory.server.index.service import IndexService
    from devfactory.storage import open_store

    store = await open_store(state / "db.sqlite")
    project = await store.projects.register(
        root_path=str(root),
        name=root.name,
        slug=root.name,
        default_branch=None,
        current_branch=None,
    )
    tasks: set[asyncio.Task[Any]] = set()

    def spawn(coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    service = IndexService(
        store=store,
        project_id=project.id,
        root=root,
        settings=IndexSettings(embedder=embedder, watch=False),  # type: ignore[arg-type]
        cache_dir=cache_dir or state / "cache",
        spawn=spawn,
    )
    return store, service
