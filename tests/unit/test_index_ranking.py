"""File-first ranking (index/fusion.py) and the query traits it reads, on small fixed corpora:
hand-made candidate lists for the rules, and a real index for the whole search."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.enums import SearchGroupBy, SearchMode
from devfactory.protocol.index import SearchParams
from devfactory.server.agents.context import RAG_CHUNKS_PER_FILE, RAG_FILES, load_context
from devfactory.server.agents.tools import ToolBox
from devfactory.server.index.discovery import (
    looks_like_changelog,
    looks_like_test,
    looks_vendored,
)
from devfactory.server.index.fusion import rank_files, ranked_chunks
from devfactory.server.index.ranking import QueryTraits, snippet
from devfactory.storage import Store
from devfactory.storage.ports import ChunkRow, FileMatch
from index_support import make_index_service
from support import make_git_repo

CHANGE = "Fix the retry delay of the proxy transport when the pool is full"
"""A commit-message-like request: long, and it asks for a change of the code."""


def chunk(
    chunk_id: int,
    path: str,
    score: float,
    *,
    name: str | None = None,
    source_type: str = "code",
    start: int = 1,
) -> ChunkRow:
    return ChunkRow(
        id=chunk_id,
        path=path,
        language="python" if source_type == "code" else "markdown",
        symbol=name,
        name=name,
        kind="function" if name else "text",
        start_line=start,
        end_line=start + 9,
        content="...",
        source_type=source_type,
        score=score,
    )


def order(query: str, lexical: list[ChunkRow], semantic: list[ChunkRow] = []) -> list[str]:  # noqa: B006
    return [ranked.path for ranked in rank_files(lexical, semantic, QueryTraits(query))]


def test_a_file_that_matches_in_several_places_beats_one_lucky_chunk():
    lexical = [
        chunk(1, "lucky.py", -10.0),
        chunk(2, "transport.py", -9.0, start=1),
        chunk(3, "transport.py", -8.5, start=40),
        chunk(4, "transport.py", -8.0, start=80),
    ]
    assert order(CHANGE, lexical) == ["transport.py", "lucky.py"]


def test_many_weak_matches_do_not_beat_one_strong_definition():
    weak = [chunk(10 + i, "noise.py", -2.0, start=10 * i) for i in range(20)]
    assert order(CHANGE, [chunk(1, "transport.py", -10.0), *weak]) == ["transport.py", "noise.py"]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        (CHANGE, "transport.py"),  # a change to the code: docs rank lower
        ("fix proxy retries", "transport.py"),
        ("retry_delay", "transport.py"),  # names code
        ("proxy retry docs", "docs/proxies.md"),  # asks for docs
        ("how are proxy retries configured", "docs/proxies.md"),  # a question: docs stay
    ],
)
def test_docs_rank_lower_for_changes_to_the_code_only(query: str, first: str):
    lexical = [
        chunk(1, "docs/proxies.md", -10.0, source_type="doc"),
        chunk(2, "transport.py", -8.0),
    ]
    assert order(query, lexical)[0] == first


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("proxy retries", "transport.py"),
        ("proxy retries changelog", "CHANGELOG.md"),
        ("release notes for proxy retries", "CHANGELOG.md"),
    ],
)
def test_changelogs_rank_lower_unless_asked_for(query: str, first: str):
    lexical = [
        chunk(1, "CHANGELOG.md", -10.0, source_type="doc"),
        chunk(2, "transport.py", -7.0),
    ]
    assert order(query, lexical)[0] == first


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("retry_delay", "httpx/_transport.py"),
        ("tests for retry_delay", "tests/test_transport.py"),
        # A long request that mentions tests on the side is still a change to the code.
        (CHANGE + " and add a test for it", "httpx/_transport.py"),
    ],
)
def test_tests_rank_lower_unless_a_short_query_asks_for_them(query: str, first: str):
    lexical = [
        chunk(1, "tests/test_transport.py", -10.0, name="test_retry_delay"),
        chunk(2, "httpx/_transport.py", -7.0, name="retry_delay"),
    ]
    assert order(query, lexical)[0] == first


def test_vendored_code_ranks_lower():
    lexical = [
        chunk(1, "mypy/typeshed/stdlib/socket.pyi", -10.0),
        chunk(2, "mypy/checker.py", -6.0),
    ]
    assert order(CHANGE, lexical) == ["mypy/checker.py", "mypy/typeshed/stdlib/socket.pyi"]


def test_semantic_evidence_breaks_a_lexical_tie_and_finds_what_lexical_missed():
    lexical = [chunk(1, "a.py", -5.0), chunk(2, "b.py", -5.0)]
    semantic = [chunk(2, "b.py", 0.2), chunk(3, "c.py", 0.3)]
    assert order("proxy pool", lexical, semantic) == ["b.py", "a.py", "c.py"]
    assert order("proxy pool", [], semantic) == ["b.py", "c.py"]


def whole(path: str, score: float, source_type: str = "code") -> FileMatch:
    return FileMatch(path=path, source_type=source_type, score=score)


def test_whole_file_bm25_lifts_a_module_about_the_query_over_a_big_one_mentioning_it():
    """Chunk evidence favours the big module (several matching chunks); whole-file BM25, with
    its length normalisation across files, puts the small module about the query first."""
    lexical = [
        chunk(1, "big.py", -9.0, start=1),
        chunk(2, "big.py", -8.0, start=300),
        chunk(3, "small.py", -8.5),
        chunk(4, "other.py", -3.0),
    ]
    whole_files = [
        whole("small.py", -12.0),
        whole("other.py", -7.0),
        whole("unchunked.py", -6.5),  # ranked, though it has no candidate chunk to show
        whole("big.py", -6.0),
    ]
    assert order(CHANGE, lexical) == ["big.py", "small.py", "other.py"]
    files = rank_files(lexical, [], QueryTraits(CHANGE), whole_files)
    assert [ranked.path for ranked in files] == ["small.py", "big.py", "other.py"]


TEST, DOC, CODE = "tests/test_pool.py", "docs/pool.md", "pool.py"
KINDS = {TEST: "code", DOC: "doc", CODE: "code"}


@pytest.mark.parametrize(
    ("query", "ahead", "whole_order", "first"),
    [
        (CHANGE, TEST, [TEST, CODE], CODE),  # the test's whole-file match does not count
        ("tests for the pool", CODE, [TEST, CODE], TEST),
        ("pool docs", CODE, [DOC, CODE], DOC),
        ("pool changelog", DOC, [DOC, CODE], CODE),  # asks for entries, not the docs
    ],
)
def test_whole_file_evidence_is_for_code_and_for_tests_or_docs_when_asked_for(
    query: str, ahead: str, whole_order: list[str], first: str
):
    """Whole, a test or a doc matches a request for a change by repeating its words: only
    code gets the whole-file evidence, tests and docs too when the query asks for them."""
    behind = CODE if ahead != CODE else first
    lexical = [
        chunk(1, ahead, -10.2, source_type=KINDS[ahead]),
        chunk(2, behind, -5.0, source_type=KINDS[behind]),
    ]
    assert order(query, lexical)[0] == ahead
    top, last = whole_order
    whole_files = [whole(top, -10.0, KINDS[top])]
    whole_files += [whole(f"filler{n}.py", -9.0 + n / 2) for n in range(3)]
    whole_files += [whole(last, -7.0, KINDS[last])]
    ranked = rank_files(lexical, [], QueryTraits(query), whole_files)
    assert ranked[0].path == first


def test_chunks_follow_their_file_and_interleave_below_its_first():
    lexical = [
        chunk(1, "a.py", -10.0, start=1),
        chunk(2, "a.py", -9.8, start=50),  # as strong as a.py's best: above b.py
        chunk(3, "b.py", -8.0, start=1),
        chunk(4, "a.py", -1.0, start=90),  # a tenth of a.py's best: below b.py
    ]
    files = rank_files(lexical, [], QueryTraits("proxy pool"))
    assert [[row.id for row, _ in ranked.chunks] for ranked in files] == [[1, 2, 4], [3]]
    chunks = ranked_chunks(files)
    assert [row.id for row, _ in chunks] == [1, 2, 3, 4]
    assert chunks[0][1] == files[0].score  # a file's first chunk carries the file's score
    assert [score for _, score in chunks] == sorted((score for _, score in chunks), reverse=True)


def test_query_traits():
    assert QueryTraits(CHANGE).changes_code
    assert QueryTraits("parse_url").changes_code
    assert QueryTraits("add retries").changes_code
    assert not QueryTraits("proxy configuration").changes_code
    assert not QueryTraits("fix the docs of proxies").changes_code  # asks for docs
    assert QueryTraits("tests for parse_url").wants_tests
    assert not QueryTraits(CHANGE + " and add a test").wants_tests
    assert QueryTraits("docs for proxies").wants_docs


@pytest.mark.parametrize(
    ("path", "changelog", "vendored", "test"),
    [
        ("CHANGELOG.md", True, False, False),
        ("docs/release-notes.rst", True, False, False),
        ("doc/build/changelog/unreleased_20/12345.rst", True, False, False),
        ("newsfragments/42.bugfix", True, False, False),
        ("docs/guide.md", False, False, False),
        ("mypy/typeshed/stdlib/os/__init__.pyi", False, True, False),
        ("src/pip/_vendor/rich/text.py", False, True, False),
        ("test-data/unit/check-final.test", False, False, True),
        ("pkg/testdata/golden.txt", False, False, True),
        ("conftest.py", False, False, True),
        ("src/app.py", False, False, False),
    ],
)
def test_file_kinds(path: str, changelog: bool, vendored: bool, test: bool):
    assert (looks_like_changelog(path), looks_vendored(path), looks_like_test(path)) == (
        changelog,
        vendored,
        test,
    )


CORPUS = {
    "app/transport.py": (
        "class ProxyTransport:\n"
        "    def retry_delay(self, attempt):\n"
        '        """Seconds to wait before the next retry through the proxy."""\n'
        "        return min(2**attempt, 30)\n\n"
        "    def send(self, request):\n"
        "        return self.pool.send(request, retries=self.retries)\n"
    ),
    "app/pool.py": (
        "class ConnectionPool:\n"
        "    def send(self, request, retries):\n"
        "        return self.connection.send(request)\n"
    ),
    "CHANGELOG.md": (
        "# Changelog\n\n## 1.2\n\n- Fix the retry delay of the proxy transport when the pool is "
        "full: retries through a proxy now wait between attempts.\n"
    ),
    "docs/proxies.md": "# Proxies\n\nThe proxy transport retries with a delay between attempts.\n",
    "tests/test_transport.py": (
        "def test_retry_delay_of_proxy_transport():\n"
        "    assert ProxyTransport().retry_delay(1) == 2\n"
    ),
}


async def test_search_ranks_files_and_groups_chunks_by_file(store: Store, tmp_path: Path):
    root = make_git_repo(tmp_path / "repo", CORPUS)
    service = await make_index_service(store, root, tmp_path / "cache", embedder="none")
    await service.rebuild()
    try:
        change = SearchParams(query=CHANGE, mode=SearchMode.LEXICAL, limit=3)
        chunks = await service.search(change)
        assert chunks.files is None
        assert chunks.hits[0].path == "app/transport.py"
        grouped = await service.search(
            SearchParams(
                query=CHANGE,
                mode=SearchMode.LEXICAL,
                group_by=SearchGroupBy.FILE,
                chunks_per_file=1,
            )
        )
        assert grouped.hits == []
        assert grouped.files is not None
        paths = [f.path for f in grouped.files]
        assert paths[0] == "app/transport.py"
        # Prose that repeats the request word for word ranks below all code for a change.
        assert set(paths[-2:]) == {"CHANGELOG.md", "docs/proxies.md"}
        assert [len(f.hits) for f in grouped.files] == [1] * len(CORPUS)
        two = await service.search(
            SearchParams(
                query=CHANGE, mode=SearchMode.LEXICAL, limit=2, group_by=SearchGroupBy.FILE
            )
        )
        assert two.files is not None
        assert [f.path for f in two.files] == paths[:2]
        assert len(two.files[0].hits) == 3  # chunks_per_file's default
        assert grouped.files[0].hits[0].symbol == "app.transport.ProxyTransport.retry_delay"
        assert grouped.all_hits() == [hit for f in grouped.files for hit in f.hits]
        docs = await service.search(SearchParams(query="proxy docs", mode=SearchMode.LEXICAL))
        assert docs.hits[0].path == "docs/proxies.md"
    finally:
        await service.stop()


async def test_the_agent_tool_and_the_context_step_rank_files(store: Store, tmp_path: Path):
    root = make_git_repo(tmp_path / "repo", CORPUS)
    service = await make_index_service(store, root, tmp_path / "cache", embedder="none")
    await service.rebuild()
    events: list[Any] = []

    async def emit(*args: Any) -> None:
        events.append(args)

    try:
        tools = ToolBox(
            run_id=1, worktree=root, emit=emit, on_file_changed=emit, search=service.search
        )
        listing = await tools.search_code(CHANGE, limit=2, group_by="file")
        assert listing.startswith("# app/transport.py\napp/transport.py:2-4")
        assert listing.count("\n# ") == 1  # two files
        assert "app/transport.py:" in await tools.search_code(CHANGE, limit=1)
        context = await load_context(
            emit=emit, worktree=root, prompt=CHANGE, rag=True, search=service.search
        )
        shown = re.findall(r"^## ([^:]+):", context, flags=re.M)
        assert shown[0] == "app/transport.py"
        assert len(set(shown)) == RAG_FILES and len(shown) <= RAG_FILES * RAG_CHUNKS_PER_FILE
    finally:
        await service.stop()


def test_a_long_chunk_shows_the_lines_around_its_best_match():
    content = "\n".join([f"line {i}" for i in range(60)] + ["retry_delay = proxy_timeout"])
    shown = snippet(content, QueryTraits(CHANGE), lines=20).split("\n")
    assert len(shown) == 20 and shown[-1] == "retry_delay = proxy_timeout"
    assert snippet(content, QueryTraits("nothing here"), lines=5) == "\n".join(
        f"line {i}" for i in range(5)
    )
    assert snippet("short\nchunk", QueryTraits(CHANGE)) == "short\nchunk"
