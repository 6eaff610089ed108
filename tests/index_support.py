"""An ``IndexService`` over a real database for in-process index tests, watching off."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from devfactory.protocol.settings import IndexSettings
from devfactory.server.index.service import IndexService
from devfactory.storage import Store


async def make_index_service(
    store: Store, root: Path, cache: Path, **settings: Any
) -> IndexService:
    """The index of ``root`` in ``store`` (``settings``: IndexSettings fields)."""
    project = await store.projects.register(
        root_path=str(root), name="repo", slug="repo", default_branch=None, current_branch=None
    )
    tasks: set[asyncio.Task[Any]] = set()

    def spawn(coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    return IndexService(
        store=store,
        project_id=project.id,
        root=root,
        settings=IndexSettings(watch=False, **settings),
        cache_dir=cache,
        spawn=spawn,
    )
