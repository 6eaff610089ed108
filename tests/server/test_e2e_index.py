"""The workspace index over the real daemon: rebuild with progress, freshness after didSave and
after changes made outside the editor, deletion, the unsaved-buffer overlay, every search
mode, workspace/symbol, the project map, and bad search requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from devfactory.protocol.enums import SearchMode
from devfactory.protocol.index import (
    IndexRebuildParams,
    IndexRebuildResult,
    IndexStatus,
    SearchParams,
    SearchResult,
)
from devfactory.protocol.methods import Requests
from devfactory.protocol.project import Health, ProjectMap, ProjectMapParams
from support import DaemonClient, git, make_git_repo

FILES = {
    "app/billing.py": (
        "def compute_invoice_total(items):\n"
        '    """Sum the price of every line item, tax included."""\n'
        "    return sum(item.price * (1 + item.tax_rate) for item in items)\n"
    ),
    "app/users.py": (
        "class UserRepository:\n"
        '    """Users stored in the database."""\n\n'
        "    def find_by_email(self, email):\n"
        "        return self.db.query(email=email)\n"
    ),
    "web/client.ts": ("export function parseUrl(raw: string): URL {\n  return new URL(raw)\n}\n"),
    "tests/test_billing.py": (
        "from app.billing import compute_invoice_total\n\n"
        "def test_compute_invoice_total():\n    assert compute_invoice_total([]) == 0\n"
    ),
    "docs/guide.md": "# Deployment\n\nShip the containers with docker compose.\n",
    "assets/logo.png": b"\x89PNG\r\n\x1a\n\0\0\0binary",
}


LEXICAL_ONLY = pytest.mark.parametrize(
    "init_options", [{"index": {"embedder": "none"}}], ids=["lexical-only"]
)
"""For tests that need no vectors: the daemon then never loads the embedding model."""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "workspace", FILES)


async def search(client: DaemonClient, query: str, **options: Any) -> SearchResult:
    result: SearchResult = await client.call(Requests.SEARCH, SearchParams(query=query, **options))
    return result


async def ready(client: DaemonClient) -> IndexRebuildResult:
    """Wait for the background pass (and embeddings) the daemon started on its own."""
    result: IndexRebuildResult = await client.call(
        Requests.INDEX_REBUILD, IndexRebuildParams(embed=True)
    )
    return result


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def top_paths(result: SearchResult) -> list[str]:
    return [hit.path for hit in result.hits]


async def test_full_rebuild_reports_progress_and_counts(daemon: DaemonClient):
    await ready(daemon)
    result: IndexRebuildResult = await daemon.call(
        Requests.INDEX_REBUILD, IndexRebuildParams(full=True, embed=True)
    )
    assert msgspec.structs.replace(result, duration_ms=0, chunks=0) == IndexRebuildResult(
        files_seen=6,
        files_indexed=5,
        files_unchanged=0,
        files_removed=0,
        files_skipped=1,
        chunks=0,
        duration_ms=0,
    )
    assert result.chunks >= 6
    finished = [
        reports
        for reports in daemon.progress_reports.values()
        if reports
        and isinstance(reports[-1], types.WorkDoneProgressEnd)
        and reports[-1].message == "5 indexed, 0 unchanged, 0 removed, 1 skipped"
    ]
    assert finished, daemon.progress_reports
    begin, *middle, end = finished[0]
    assert begin == types.WorkDoneProgressBegin(
        title="Indexing workspace", message="Looking for changes", percentage=0, cancellable=False
    )
    assert middle[-1] == types.WorkDoneProgressReport(message="5/5 files", percentage=100)
    assert end == types.WorkDoneProgressEnd(message="5 indexed, 0 unchanged, 0 removed, 1 skipped")
    status: IndexStatus = await daemon.call(Requests.INDEX_STATUS)
    assert msgspec.structs.replace(status, last_indexed_at=None) == IndexStatus(
        state="idle",
        files=5,
        chunks=result.chunks,
        embedded_chunks=result.chunks,
        skipped_files=1,
        embedder="wordllama:l2_supercat:256",
        watching=True,
    )


async def test_health_names_the_embedder(daemon: DaemonClient):
    health: Health = await daemon.call(Requests.HEALTH)
    assert health.embedder == "wordllama:l2_supercat:256"


@pytest.mark.parametrize(
    ("mode", "query", "expected"),
    [
        (SearchMode.LEXICAL, "UserRepository", "app/users.py"),
        (SearchMode.LEXICAL, "parse url", "web/client.ts"),
        (SearchMode.SEMANTIC, "sum of the prices of line items with tax", "app/billing.py"),
        (SearchMode.HYBRID, "find a user by email address", "app/users.py"),
        (SearchMode.HYBRID, "parseUrl", "web/client.ts"),
        (SearchMode.HYBRID, "deployment with docker compose", "docs/guide.md"),
    ],
)
async def test_every_search_mode_finds_the_defining_file(
    daemon: DaemonClient, mode: SearchMode, query: str, expected: str
):
    await ready(daemon)
    result = await search(daemon, query, mode=mode, limit=3)
    assert result.mode is mode
    assert result.hits[0].path == expected


async def test_hits_carry_lines_symbol_and_snippet(daemon: DaemonClient):
    await ready(daemon)
    result = await search(daemon, "find_by_email", mode=SearchMode.LEXICAL, limit=1)
    hit = result.hits[0]
    assert msgspec.structs.replace(hit, score=0) == msgspec.structs.replace(
        hit,
        path="app/users.py",
        start_line=4,
        end_line=5,
        symbol="app.users.UserRepository.find_by_email",
        kind="method",
        language="python",
        score=0,
        snippet="    def find_by_email(self, email):\n        return self.db.query(email=email)",
    )


async def test_tests_rank_below_code_unless_asked_for(daemon: DaemonClient):
    await ready(daemon)
    plain = await search(daemon, "compute_invoice_total", limit=2)
    assert top_paths(plain) == ["app/billing.py", "tests/test_billing.py"]
    asked = await search(daemon, "test compute_invoice_total", limit=2)
    assert top_paths(asked)[0] == "tests/test_billing.py"


@LEXICAL_ONLY
async def test_filters_by_path_glob_and_language(init_options: object, daemon: DaemonClient):
    await ready(daemon)
    only_web = await search(daemon, "parse url compute invoice", paths=["web/"], limit=10)
    assert set(top_paths(only_web)) == {"web/client.ts"}
    only_python = await search(daemon, "parse url compute invoice", languages=["python"])
    assert {hit.language for hit in only_python.hits} == {"python"}


@LEXICAL_ONLY
async def test_a_saved_file_is_searchable_again(
    init_options: object, daemon: DaemonClient, workspace: Path
):
    await ready(daemon)
    path = workspace / "app/billing.py"
    path.write_text(path.read_text() + "\n\ndef refund_invoice_payment(invoice):\n    pass\n")
    daemon.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )

    async def found() -> bool:
        result = await search(daemon, "refund_invoice_payment", mode=SearchMode.LEXICAL)
        return top_paths(result)[:1] == ["app/billing.py"]

    await eventually(found)


@LEXICAL_ONLY
async def test_outside_changes_and_deletions_are_picked_up(
    init_options: object, daemon: DaemonClient, workspace: Path
):
    await ready(daemon)
    new_file = workspace / "app/shipping.py"
    new_file.write_text("def schedule_parcel_pickup(order):\n    return order\n")

    async def hits() -> list[str]:
        return top_paths(await search(daemon, "schedule_parcel_pickup", mode=SearchMode.LEXICAL))

    async def present() -> bool:
        return await hits() == ["app/shipping.py"]

    async def absent() -> bool:
        return await hits() == []

    await eventually(present)
    new_file.unlink()
    await eventually(absent)
    (workspace / "web/client.ts").unlink()

    async def client_gone() -> bool:
        result = await search(daemon, "parseUrl", mode=SearchMode.LEXICAL)
        return "web/client.ts" not in top_paths(result)

    await eventually(client_gone)
    status: IndexStatus = await daemon.call(Requests.INDEX_STATUS)
    assert status.files == 4


async def test_unsaved_buffers_are_searchable_until_closed(daemon: DaemonClient, workspace: Path):
    await ready(daemon)
    path = workspace / "app/users.py"
    on_disk = path.read_text()
    uri = path.as_uri()
    edited = on_disk + "\n    def deactivate_dormant_accounts(self):\n        pass\n"
    daemon.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=on_disk
            )
        )
    )
    daemon.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )

    async def buffer_hits() -> list[str]:
        result = await search(daemon, "deactivate_dormant_accounts", mode=SearchMode.HYBRID)
        return top_paths(result)

    async def in_buffer() -> bool:
        return (await buffer_hits())[:1] == ["app/users.py"]

    await eventually(in_buffer)
    semantic = await search(daemon, "deactivate dormant accounts", mode=SearchMode.SEMANTIC)
    assert "app/users.py" in top_paths(semantic)
    still_on_disk = await search(daemon, "find_by_email", mode=SearchMode.LEXICAL)
    assert top_paths(still_on_disk) == ["app/users.py"]  # the buffer's copy, not both
    assert path.read_text() == on_disk
    daemon.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )

    async def closed() -> bool:
        result = await search(daemon, "deactivate_dormant_accounts", mode=SearchMode.LEXICAL)
        return result.hits == []

    await eventually(closed)


def open_buffer(client: DaemonClient, path: Path, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(), language_id="plaintext", version=1, text=text
            )
        )
    )


async def hits_once_handled(client: DaemonClient, workspace: Path, word: str) -> list[str]:
    """Open app/billing.py's buffer with ``word`` in it, wait until a search finds it (the
    buffers opened before it were handled by then), and return the paths ``word`` hits."""
    open_buffer(client, workspace / "app/billing.py", f"# {word}\n" + FILES["app/billing.py"])

    async def paths() -> list[str]:
        return top_paths(await search(client, word, mode=SearchMode.LEXICAL))

    async def indexed_buffer_found() -> bool:
        return "app/billing.py" in await paths()

    await eventually(indexed_buffer_found)
    return await paths()


@LEXICAL_ONLY
async def test_buffers_of_files_the_index_leaves_out_are_never_searchable(
    init_options: object, daemon: DaemonClient, workspace: Path
):
    """An editor shows what the user opens; the agent searches the index. A secret in an
    ignored ``.env``, git's own files, a vendored copy or a lock file must not reach search
    results because its buffer is open."""
    (workspace / ".gitignore").write_text(".env\n")
    git(workspace, "add", ".gitignore")
    git(workspace, "commit", "-q", "-m", "ignore .env")
    (workspace / ".env").write_text("STRIPE_KEY=sk_live_hunter2\n")
    (workspace / "node_modules/left-pad").mkdir(parents=True)
    await ready(daemon)
    left_out = {
        ".env": "STRIPE_KEY=sk_live_hunter2 zanzibar_quokka\n",
        ".git/config": "[remote]\n  url = https://token@example.invalid zanzibar_quokka\n",
        ".git/COMMIT_EDITMSG": "zanzibar_quokka\n",
        "node_modules/left-pad/index.js": "// zanzibar_quokka\n",
        "poetry.lock": "# zanzibar_quokka\n",
    }
    for name, text in left_out.items():
        open_buffer(daemon, workspace / name, text)
    assert await hits_once_handled(daemon, workspace, "zanzibar_quokka") == ["app/billing.py"]
    assert (await search(daemon, "sk_live_hunter2", mode=SearchMode.LEXICAL)).hits == []


@LEXICAL_ONLY
async def test_buffers_reached_through_links_or_a_nested_git_stay_out_of_search(
    init_options: object, daemon: DaemonClient, workspace: Path, tmp_path: Path
):
    """What a hostile run could leave in the workspace for the user to open: links to a file
    outside it and into ``.git``, and a nested repository's own ``.git``."""
    outside = tmp_path / "outside.txt"
    outside.write_text("private\n")
    (workspace / "notes.txt").symlink_to(outside)
    (workspace / "remote.cfg").symlink_to(workspace / ".git/config")
    (workspace / "vendor/lib/.git").mkdir(parents=True)
    (workspace / "vendor/lib/.git/config").write_text("[core]\n")
    await ready(daemon)
    for name in ("notes.txt", "remote.cfg", "vendor/lib/.git/config"):
        open_buffer(daemon, workspace / name, "wallaby_marmot token\n")
    assert await hits_once_handled(daemon, workspace, "wallaby_marmot") == ["app/billing.py"]


@LEXICAL_ONLY
async def test_workspace_symbol_serves_definitions(
    init_options: object, daemon: DaemonClient, workspace: Path
):
    await ready(daemon)
    symbols = await daemon.workspace_symbol_async(types.WorkspaceSymbolParams(query="userrepo"))
    assert symbols == [
        types.SymbolInformation(
            name="UserRepository",
            kind=types.SymbolKind.Class,
            location=types.Location(
                uri=(workspace / "app/users.py").as_uri(),
                range=types.Range(
                    start=types.Position(line=0, character=0),
                    end=types.Position(line=2, character=0),
                ),
            ),
            container_name="app.users",
        )
    ]


@LEXICAL_ONLY
async def test_project_map_is_written_and_deterministic(
    init_options: object, daemon: DaemonClient, workspace: Path
):
    await ready(daemon)
    first: ProjectMap = await daemon.call(Requests.PROJECT_MAP, ProjectMapParams(write=True))
    second: ProjectMap = await daemon.call(Requests.PROJECT_MAP, ProjectMapParams(write=True))
    assert first == second
    assert first.path == str(workspace / "PROJECT_MAP.md")
    assert (workspace / "PROJECT_MAP.md").read_text() == first.markdown
    assert "`app.billing.compute_invoice_total` (function, line 1)" in first.markdown
    preview: ProjectMap = await daemon.call(Requests.PROJECT_MAP, ProjectMapParams(write=False))
    assert preview.markdown == first.markdown


BAD_SEARCHES: list[tuple[dict[str, Any], str]] = [
    ({"query": ""}, "query must not be empty"),
    ({"query": "   "}, "query must not be empty"),
    ({"query": "x", "limit": 0}, "limit must be between 1 and 200, got 0"),
    ({"query": "x", "limit": 201}, "limit must be between 1 and 200, got 201"),
    ({"query": "x", "mode": "fuzzy"}, r"\$\.mode"),
    ({"query": "x", "paths": ["../elsewhere/**"]}, "leaves the workspace"),
    ({"query": "x", "paths": ["/etc/passwd"]}, "outside the workspace"),
    ({"limit": 3}, "query"),
]


@LEXICAL_ONLY
async def test_bad_search_requests_are_invalid_params(init_options: object, daemon: DaemonClient):
    # One daemon for the whole table (a daemon per case would double this file's run time).
    for params, message in BAD_SEARCHES:
        with pytest.raises(JsonRpcInvalidParams, match=message):
            await daemon.protocol.send_request_async(Requests.SEARCH, params)
    status: IndexStatus = await daemon.call(Requests.INDEX_STATUS)
    assert status.embedder == "none"  # and the daemon still serves


@LEXICAL_ONLY
async def test_bad_rebuild_params_name_the_field(init_options: object, daemon: DaemonClient):
    with pytest.raises(JsonRpcException, match="full"):
        await daemon.protocol.send_request_async(Requests.INDEX_REBUILD, {"full": "yes"})
