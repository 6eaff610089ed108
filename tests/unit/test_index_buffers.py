"""Unsaved buffers in the index service: a chunking that finishes late never undoes what the
editor did meanwhile."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from devfactory.protocol.enums import SearchMode
from devfactory.protocol.index import SearchParams
from devfactory.server.index.service import IndexService
from devfactory.storage import Store
from index_support import make_index_service
from support import make_git_repo


async def hit_paths(service: IndexService, query: str) -> list[str]:
    result = await service.search(SearchParams(query=query, mode=SearchMode.LEXICAL))
    return [hit.path for hit in result.hits]


@pytest.fixture
async def service(store: Store, tmp_path: Path) -> AsyncIterator[IndexService]:
    root = make_git_repo(tmp_path / "repo", {"app.py": "def start():\n    pass\n"})
    index = await make_index_service(store, root, tmp_path / "cache", embedder="none")
    yield index
    await index.stop()


async def search_while_chunking(
    service: IndexService,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    query: str,
    meanwhile: Callable[[], None],
) -> list[str]:
    """Open ``text`` as app.py's buffer and search ``query``; while the search's flush is
    chunking the buffer, do ``meanwhile``. Returns that search's hits."""
    started, release = threading.Event(), threading.Event()
    real = service._buffer_update

    def slow(path: str, text: str) -> object:
        started.set()
        release.wait(10)
        return real(path, text)

    monkeypatch.setattr(service, "_buffer_update", slow)
    service.buffer_changed("app.py", text)
    searching = asyncio.create_task(hit_paths(service, query))
    await asyncio.to_thread(started.wait, 10)
    meanwhile()
    release.set()
    return await searching


async def test_a_buffer_closed_while_it_is_chunked_stays_out_of_search(
    service: IndexService, monkeypatch: pytest.MonkeyPatch
):
    close = functools.partial(service.buffer_closed, "app.py")
    text = "def quokka_zanzibar():\n    pass\n"
    assert await search_while_chunking(service, monkeypatch, text, "quokka_zanzibar", close) == []
    assert await hit_paths(service, "quokka_zanzibar") == []


async def test_a_buffer_changed_while_it_is_chunked_ends_with_its_last_text(
    service: IndexService, monkeypatch: pytest.MonkeyPatch
):
    redraft = functools.partial(
        service.buffer_changed, "app.py", "def second_draft_wombat():\n    pass\n"
    )
    text = "def first_draft_wombat():\n    pass\n"
    assert (
        await search_while_chunking(service, monkeypatch, text, "first_draft_wombat", redraft) == []
    )
    assert await hit_paths(service, "second_draft_wombat") == ["app.py"]
    assert await hit_paths(service, "first_draft_wombat") == []
