"""The storage contract, the index's part: files, chunks, search, vectors, the buffer index and
the worker processes' writer, through the port types only, against every adapter."""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence
from pathlib import Path

import pytest

from devfactory.storage import Store, open_index_writer
from devfactory.storage.ports import (
    ChunkRow,
    FileMatch,
    FileState,
    FileUpdate,
    IndexBatch,
    IndexCounts,
    NewChunk,
)
from storage_support import STORES

WEIGHTS = (1.0, 3.0, 1.5, 0.5)


def chunk(name: str, line: int, content: str) -> NewChunk:
    return NewChunk(
        symbol=f"m.{name}", name=name, kind="function", start_line=line, end_line=line + 1,
        content=content, content_hash=f"h-{name}", symbol_terms=f"m {name}", subtokens="",
    )  # fmt: skip


def update(path: str, *chunks: NewChunk, language: str = "python", size: int = 10) -> FileUpdate:
    return FileUpdate(
        path=path, language=language, source_type="code", size=size, mtime_ns=size * 100,
        content_hash=f"hash-{path}-{size}", skip_reason=None, chunks=list(chunks),
    )  # fmt: skip


def row(found: ChunkRow) -> tuple[str, str | None, int]:
    return found.path, found.name, found.start_line


def vector(*values: float) -> bytes:
    return struct.pack(f"{len(values)}f", *values)


async def indexed(store: Store) -> int:
    """A project with three files (one skipped) and four chunks."""
    project = await store.projects.register(
        root_path="/w", name="w", slug="w", default_branch=None, current_branch=None
    )
    written = await store.index.apply(
        project.id,
        IndexBatch(
            [
                update(
                    "billing.py",
                    chunk("refund", 1, "def refund(payment): give the money back"),
                    chunk("refund_all", 5, "def refund_all(): refund every payment"),
                ),
                update(
                    "ship.ts", chunk("shipParcel", 1, "ship the parcel by truck"), language="ts"
                ),
                update("docs.md", chunk("intro", 1, "how a refund and a parcel work")),
                FileUpdate("big.bin", None, "code", 9, 900, "hash-big", "binary", []),
            ]
        ),
    )
    assert written == 4
    return project.id


async def test_files_are_written_touched_and_removed(any_store: Store) -> None:
    project_id = await indexed(any_store)
    states = await any_store.index.file_states(project_id)
    assert sorted(states) == ["big.bin", "billing.py", "docs.md", "ship.ts"]
    assert states["big.bin"] == FileState(
        id=states["big.bin"].id, path="big.bin", size=9, mtime_ns=900, content_hash="hash-big",
        skip_reason="binary",
    )  # fmt: skip
    assert sorted(await any_store.index.file_states(project_id, ["ship.ts", "nope"])) == ["ship.ts"]
    ids = await any_store.index.file_ids(project_id)
    assert sorted(ids) == ["billing.py", "docs.md", "ship.ts"], "skipped files have no chunks"
    assert await any_store.index.counts(project_id) == IndexCounts(3, 1, 4, 0)

    assert await any_store.index.apply(project_id, IndexBatch([])) == 0
    touched = IndexBatch([], touched=[("ship.ts", 11, 1100)], removed=["docs.md"])
    assert await any_store.index.apply(project_id, touched) == 0
    states = await any_store.index.file_states(project_id)
    assert (states["ship.ts"].size, states["ship.ts"].mtime_ns) == (11, 1100)
    assert "docs.md" not in states
    rewritten = IndexBatch([update("billing.py", chunk("refund", 2, "def refund(): nothing"))])
    assert await any_store.index.apply(project_id, rewritten) == 1
    assert [row(c) for c in await any_store.index.all_chunks(project_id)] == [
        ("billing.py", "refund", 2),
        ("ship.ts", "shipParcel", 1),
    ]
    await any_store.index.clear(project_id)
    assert await any_store.index.counts(project_id) == IndexCounts(0, 0, 0, 0)


async def test_meta_values_are_kept_per_key(any_store: Store) -> None:
    project_id = await indexed(any_store)
    assert await any_store.index.get_meta(project_id, "embedder") is None
    await any_store.index.set_meta(project_id, "embedder", "a")
    await any_store.index.set_meta(project_id, "embedder", "b")
    assert await any_store.index.get_meta(project_id, "embedder") == "b"


async def test_lexical_search_ranks_and_filters(any_store: Store) -> None:
    project_id = await indexed(any_store)
    found = await any_store.index.lexical(project_id, "refund", 10, weights=WEIGHTS)
    assert {c.name for c in found} == {"refund", "refund_all", "intro"}
    assert all(a.score <= b.score for a, b in itertools.pairwise(found)), "best first"
    assert len(await any_store.index.lexical(project_id, "refund", 1, weights=WEIGHTS)) == 1
    ids = await any_store.index.file_ids(project_id)
    only_docs = await any_store.index.lexical(
        project_id, "refund OR parcel", 10, weights=WEIGHTS, file_ids=[ids["docs.md"]]
    )
    assert [c.path for c in only_docs] == ["docs.md"]
    typescript = await any_store.index.lexical(
        project_id, "refund OR parcel", 10, weights=WEIGHTS, languages=["ts"]
    )
    assert [row(c) for c in typescript] == [("ship.ts", "shipParcel", 1)]


async def test_common_words_score_what_the_rare_ones_find(any_store: Store) -> None:
    project_id = await indexed(any_store)
    found = await any_store.index.lexical(project_id, "parcel", 10, weights=WEIGHTS, also="refund")
    whole = await any_store.index.lexical(project_id, "parcel OR refund", 10, weights=WEIGHTS)
    assert {c.path for c in found} == {"ship.ts", "docs.md"}, "refund alone finds nothing"
    assert scores(found) == [s for s in scores(whole) if s[0] != "billing.py"]
    assert found[0].path == "docs.md", "refund adds to the score of what parcel found"
    ids = await any_store.index.file_ids(project_id)
    narrowed = await any_store.index.lexical(
        project_id, "parcel", 10, weights=WEIGHTS, also="refund", file_ids=[ids["docs.md"]]
    )
    assert scores(narrowed) == scores(found)[:1]


async def test_common_words(any_store: Store) -> None:
    """The words more than ``floor`` chunks hold, with their counts, and only those."""
    project_id = await indexed(any_store)
    common = await any_store.index.common_words(project_id, 1)
    assert (common["refund"], common["parcel"]) == (3, 2)
    assert "truck" not in common and min(common.values()) == 2
    common = await any_store.index.common_words(project_id, 2)
    assert "refund" in common and "parcel" not in common


def scores(found: Sequence[ChunkRow]) -> list[tuple[str, str | None, float]]:
    return [(c.path, c.name, round(c.score, 9)) for c in found]


async def test_reindexing_leaves_the_ranking_of_a_fresh_index(
    any_store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """BM25's statistics (rows, their lengths, the rows holding each term) count only the
    chunks that exist: an index that has followed many edits ranks as one built afresh."""
    project_id = await indexed(any_store)
    moved = update("ship.ts", chunk("shipParcel", 1, "ship the parcel by truck"), language="ts")
    for size in range(11, 16):  # a file re-indexed again and again; another gone and back
        rewritten = update("billing.py", chunk("refund", 1, "refund " * size), size=size)
        await any_store.index.apply(project_id, IndexBatch([rewritten], removed=["docs.md"]))
        await any_store.index.apply(project_id, IndexBatch([moved]))
        await any_store.index.apply(
            project_id, IndexBatch([update("docs.md", chunk("intro", 1, "how a refund works"))])
        )
    fresh = await STORES[request.node.callspec.params["any_store"]](tmp_path / "fresh")
    try:
        fresh_id = await indexed(fresh)
        await fresh.index.apply(fresh_id, IndexBatch([rewritten]))
        await fresh.index.apply(
            fresh_id, IndexBatch([update("docs.md", chunk("intro", 1, "how a refund works"))])
        )
        for query in ("refund", "parcel", "refund OR truck"):
            assert scores(
                await any_store.index.lexical(project_id, query, 10, weights=WEIGHTS)
            ) == scores(await fresh.index.lexical(fresh_id, query, 10, weights=WEIGHTS)), query
    finally:
        await fresh.close()


async def test_whole_files_rank_by_all_their_text_and_filter(any_store: Store) -> None:
    """One document per file: a file matching in two chunks outranks one matching once, terms
    from different chunks of a file match it together, and skipped files are not there."""
    project_id = await indexed(any_store)
    found = await any_store.index.file_lexical(project_id, "refund", 10)
    assert [f.path for f in found] == ["billing.py", "docs.md"]
    assert found[0].score < found[1].score < 0
    across = await any_store.index.file_lexical(project_id, "money AND every", 10)
    assert [f.path for f in across] == ["billing.py"]
    assert await any_store.index.lexical(project_id, "money AND every", 10, weights=WEIGHTS) == []
    shorter_first = await any_store.index.file_lexical(project_id, "parcel", 10)
    assert [f.path for f in shorter_first] == ["ship.ts", "docs.md"]
    assert len(await any_store.index.file_lexical(project_id, "refund OR parcel", 1)) == 1
    ids = await any_store.index.file_ids(project_id)
    only_docs = await any_store.index.file_lexical(
        project_id, "refund OR parcel", 10, file_ids=[ids["docs.md"]]
    )
    assert [f.path for f in only_docs] == ["docs.md"]
    typescript = await any_store.index.file_lexical(
        project_id, "refund OR parcel", 10, languages=["ts"]
    )
    assert [f.path for f in typescript] == ["ship.ts"]


def file_scores(found: Sequence[FileMatch]) -> list[tuple[str, float]]:
    return [(f.path, round(f.score, 9)) for f in found]


async def test_common_words_score_the_files_the_rare_ones_find(any_store: Store) -> None:
    project_id = await indexed(any_store)
    found = await any_store.index.file_lexical(project_id, "parcel", 10, also="refund")
    whole = await any_store.index.file_lexical(project_id, "parcel OR refund", 10)
    assert file_scores(found) == [s for s in file_scores(whole) if s[0] != "billing.py"]
    assert found[0].path == "docs.md", "refund adds to the score of what parcel found"
    ids = await any_store.index.file_ids(project_id)
    narrowed = await any_store.index.file_lexical(
        project_id, "parcel", 10, also="refund", file_ids=[ids["docs.md"]]
    )
    assert file_scores(narrowed) == file_scores(found)[:1]


async def test_reindexing_leaves_the_file_ranking_of_a_fresh_index(
    any_store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The whole-file index's statistics (files, their lengths, the files holding each term)
    count only the files that exist, whether re-indexed, removed or cleared."""
    project_id = await indexed(any_store)
    moved = update("ship.ts", chunk("shipParcel", 1, "ship the parcel by truck"), language="ts")
    for size in range(11, 16):  # a file re-indexed again and again; another gone and back
        rewritten = update(
            "billing.py",
            chunk("refund", 1, "refund " * size),
            chunk("refundAll", 3, "refund all parcels"),
            size=size,
        )
        await any_store.index.apply(project_id, IndexBatch([rewritten], removed=["docs.md"]))
        await any_store.index.apply(project_id, IndexBatch([moved]))
        await any_store.index.apply(
            project_id, IndexBatch([update("docs.md", chunk("intro", 1, "how a refund works"))])
        )
    other = await any_store.projects.register(
        root_path="/o", name="o", slug="o", default_branch=None, current_branch=None
    )
    await any_store.index.apply(other.id, IndexBatch([update("x.py", chunk("x", 1, "refund"))]))
    await any_store.index.clear(other.id)
    fresh = await STORES[request.node.callspec.params["any_store"]](tmp_path / "fresh")
    try:
        fresh_id = await indexed(fresh)
        await fresh.index.apply(fresh_id, IndexBatch([rewritten]))
        await fresh.index.apply(
            fresh_id, IndexBatch([update("docs.md", chunk("intro", 1, "how a refund works"))])
        )
        for query in ("refund", "parcel", "refund OR truck", "all"):
            assert file_scores(
                await any_store.index.file_lexical(project_id, query, 10)
            ) == file_scores(await fresh.index.file_lexical(fresh_id, query, 10)), query
    finally:
        await fresh.close()


async def test_buffers_put_again_rank_as_put_once(any_store: Store) -> None:
    """The buffer index replaces a buffer's chunks at every keystroke batch: its BM25
    statistics follow, so a buffer edited many times ranks as one put once."""
    edited, once = any_store.index.open_buffers(), any_store.index.open_buffers()
    try:
        for buffers, versions in ((edited, range(1, 8)), (once, range(7, 8))):
            buffers.put(update("other.py", chunk("parcel", 1, "parcel by truck refund")))
            for size in versions:
                buffers.put(update("billing.py", chunk("refund", 1, "refund " * size)))
        assert scores(edited.lexical("refund", 10, WEIGHTS, None)) == scores(
            once.lexical("refund", 10, WEIGHTS, None)
        )
    finally:
        edited.close()
        once.close()


async def test_symbols_exact_then_prefix_then_the_rest(any_store: Store) -> None:
    project_id = await indexed(any_store)
    found = await any_store.index.symbols(project_id, "REFUND", 10)
    assert [c.name for c in found] == ["refund", "refund_all"]
    assert [c.name for c in await any_store.index.symbols(project_id, "parcel", 10)] == [
        "shipParcel"
    ]
    by_id = await any_store.index.chunks_by_id(project_id, [found[0].id, 10**9])
    assert list(by_id) == [found[0].id] and by_id[found[0].id].content == found[0].content


async def embedded(store: Store) -> tuple[int, dict[str, int]]:
    """The indexed project with a 3-d vector for every chunk."""
    project_id = await indexed(store)
    await store.index.reset_vectors(project_id, 3)
    pending = await store.index.chunks_to_embed(project_id, 10)
    texts = dict(pending)
    assert texts[min(texts)].startswith("m.refund\n"), "symbol, newline, content"
    axes = {"refund": (1, 0, 0), "refund_all": (0.9, 0.1, 0), "shipParcel": (0, 1, 0)}
    ids = {c.name or "": c.id for c in await store.index.all_chunks(project_id)}
    await store.index.store_vectors(
        [(ids[name], vector(*axes.get(name, (0, 0, 1)))) for name in ids]
    )
    return project_id, ids


async def test_vectors_are_stored_searched_and_reset(any_store: Store) -> None:
    project_id, ids = await embedded(any_store)
    assert await any_store.index.chunks_to_embed(project_id, 10) == []
    assert (await any_store.index.counts(project_id)).embedded_chunks == 4
    chunk_ids, vectors = await any_store.index.all_vectors(project_id)
    stored = {i: bytes(vectors[12 * n : 12 * n + 12]) for n, i in enumerate(chunk_ids)}
    assert len(vectors) == 12 * len(chunk_ids) == 48
    assert stored[ids["shipParcel"]] == vector(0, 1, 0)
    nearest = await any_store.index.semantic(project_id, vector(1, 0, 0), 2)
    assert [c.name for c in nearest] == ["refund", "refund_all"]
    assert nearest[0].score == pytest.approx(0, abs=1e-6), "cosine distance"
    filtered = await any_store.index.semantic(project_id, vector(1, 0, 0), 5, languages=["ts"])
    assert [c.name for c in filtered] == ["shipParcel"], "a narrow filter still finds its hits"

    await any_store.index.store_vectors([(10**9, vector(1, 1, 1))])  # deleted meanwhile: skipped
    await any_store.index.reset_vectors(project_id, 2)
    assert len(await any_store.index.chunks_to_embed(project_id, 10)) == 4
    assert await any_store.index.all_vectors(project_id) == ([], bytearray())


async def test_buffers_are_ranked_like_the_store(any_store: Store) -> None:
    project_id = await indexed(any_store)
    buffers = any_store.index.open_buffers()
    try:
        assert (buffers.paths, buffers.lexical("refund", 5, WEIGHTS, None), buffers.chunks()) == (
            frozenset(),
            [],
            [],
        )
        same = update(
            "billing.py",
            chunk("refund", 1, "def refund(payment): give the money back"),
            chunk("refund_all", 5, "def refund_all(): refund every payment"),
        )
        assert buffers.put(same) == []
        buffers.put(update("new.py", chunk("parcel", 1, "parcel refund")))
        assert buffers.paths == {"billing.py", "new.py"}
        mine = buffers.lexical("refund", 10, WEIGHTS, frozenset({"billing.py"}))
        billing = (await any_store.index.file_ids(project_id))["billing.py"]
        theirs = await any_store.index.lexical(
            project_id, "refund", 10, weights=WEIGHTS, file_ids=[billing]
        )
        assert [row(c) for c in mine] == [row(c) for c in theirs]
        assert all(c.id < 0 for c in mine), "buffer ids never collide with the store's"
        replaced = buffers.put(update("billing.py", chunk("refund", 3, "def refund(): no")))
        assert sorted(replaced) == sorted(c.id for c in mine)
        assert [row(c) for c in buffers.chunks()] == [
            ("billing.py", "refund", 3),
            ("new.py", "parcel", 1),
        ]
        dropped = buffers.drop("new.py")
        assert len(dropped) == 1 and buffers.drop("new.py") == []
        assert buffers.paths == {"billing.py"}
    finally:
        buffers.close()


def write_from_a_worker(location: str, project_id: int, updates: Sequence[FileUpdate]) -> int:
    """What an index worker process does with its writer."""
    writer = open_index_writer(location, project_id)
    try:
        return writer.apply(IndexBatch(updates))
    finally:
        writer.close()


async def test_a_worker_writer_writes_what_the_store_then_reads(any_store: Store) -> None:
    project_id = await indexed(any_store)
    batch = [update("worker.py", chunk("parse", 1, "parse the worker's file"))]
    assert write_from_a_worker(any_store.location, project_id, batch) == 1
    found = await any_store.index.lexical(project_id, "worker", 5, weights=WEIGHTS)
    assert [row(c) for c in found] == [("worker.py", "parse", 1)]
