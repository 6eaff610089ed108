"""A query's common words score the chunks its rarer words find, and find none themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from devfactory.protocol.enums import SearchMode
from devfactory.protocol.index import SearchParams
from devfactory.server.index.overlay import BufferOverlay
from devfactory.server.index.ranking import LexicalQuery, common_words_split, query_terms
from devfactory.server.index.search import SearchEngine
from devfactory.server.index.vectors import VectorCache
from devfactory.storage import Store
from devfactory.storage.ports import FileUpdate, IndexBatch, NewChunk

COUNTS = {"return": 40_000, "value": 9_000, "model": 2_500, "cache": 800, "ttl": 30}


@pytest.mark.parametrize(
    ("query", "split"),
    [
        # More than 1,000 chunks hold return, value and model: they are common.
        ("return the cache ttl value", ('"cache" OR "ttl"', '"return" OR "value"')),
        ("return model value ttl", ('"ttl"', '"return" OR "model" OR "value"')),
        # Every word common: the rarest finds the candidates.
        ("return the model value", ('"model"', '"return" OR "value"')),
        # The bar is a count, not a share of the index: 800 chunks are never common.
        ("cache value", ('"cache"', '"value"')),
        ("cache ttl", ('"cache" OR "ttl"', None)),
        # Identifiers are never common: their words are a phrase, or a group.
        ("return model_cache", ('"model_cache"', '"return"')),
        ("return modelCache", ('("modelcache" OR "model cache")', '"return"')),
        # Underscores only around a word leave that word, which may be common.
        ("__return__ _cache", ('"cache"', '"return"')),
        ("__model__ value", ('"model"', '"value"')),
        ("the of", None),
    ],
)
def test_common_words_only_score(query: str, split: tuple[str, str | None] | None):
    expected = None if split is None else LexicalQuery(*split)
    assert common_words_split(query_terms(query), COUNTS) == expected


def chunks(path: str, texts: list[str]) -> FileUpdate:
    return FileUpdate(
        path=path, language="python", source_type="code", size=1, mtime_ns=1,
        content_hash=path, skip_reason=None,
        chunks=[
            NewChunk(None, None, None, n, n, text, f"{path}-{n}", "", "")
            for n, text in enumerate(texts, start=1)
        ],
    )  # fmt: skip


async def test_chunks_holding_only_common_words_are_not_candidates(store: Store, tmp_path: Path):
    """1,200 chunks say "return": a search for "return refund" scores the refund chunks with
    it and leaves the rest unscored (a plain OR-query returned them as hits)."""
    project = await store.projects.register(
        root_path=str(tmp_path), name="w", slug="w", default_branch=None, current_branch=None
    )
    batch = IndexBatch(
        [
            chunks("filler.py", [f"return filler_{n}" for n in range(1_200)]),
            chunks("billing.py", ["def refund(): return money", "refund later"]),
        ]
    )
    await store.index.apply(project.id, batch)
    overlay = BufferOverlay(store.index.open_buffers())
    engine = SearchEngine(store, project.id, tmp_path, overlay, lambda: "none", VectorCache())
    result = await engine.search(
        SearchParams(query="return refund", mode=SearchMode.LEXICAL, limit=5)
    )
    overlay.close()
    assert sorted((hit.path, hit.start_line) for hit in result.hits) == [
        ("billing.py", 1),
        ("billing.py", 2),
    ]
