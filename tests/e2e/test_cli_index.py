"""``devfactory index``, ``search`` and ``map`` as a user runs them: real subprocesses, each
starting a real daemon on a real git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_support import DEVFACTORY, cli_env
from support import make_git_repo

FILES = {
    "billing/invoices.py": (
        "def compute_invoice_total(items):\n"
        '    """Sum the price of every line item, tax included."""\n'
        "    return sum(item.price for item in items)\n"
    ),
    "web/router.ts": "export function parseUrl(raw: string): URL {\n  return new URL(raw)\n}\n",
    "tests/test_invoices.py": (
        "from billing.invoices import compute_invoice_total\n\n\n"
        "def test_compute_invoice_total():\n    assert compute_invoice_total([]) == 0\n"
    ),
}


def devfactory(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DEVFACTORY, *args], capture_output=True, text=True, cwd=cwd, env=cli_env(), timeout=120
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "shop", FILES)


def test_index_then_search_as_json(repo: Path, tmp_path: Path):
    indexed = devfactory("index", str(repo), cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stdout.startswith("3 files indexed (0 skipped) into 4 chunks, 4 embedded")
    assert "Indexing workspace" in indexed.stderr  # the bar, drawn from $/progress

    found = devfactory("search", "parse url", "--workspace", str(repo), "--json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0] == {
        "path": "web/router.ts",
        "start_line": 1,
        "end_line": 3,
        "symbol": "web.router.parseUrl",
        "kind": "function",
        "language": "typescript",
        "score": hits[0]["score"],
        "snippet": FILES["web/router.ts"].rstrip("\n"),
    }
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)


def test_search_modes_limits_and_errors(repo: Path):
    lexical = devfactory("search", "compute_invoice_total", "-m", "lexical", "-n", "1", cwd=repo)
    assert lexical.returncode == 0, lexical.stderr
    assert lexical.stdout.splitlines()[0].startswith(" 1. ")
    assert "1 hit, lexical" in lexical.stdout

    empty = devfactory("search", "  ", cwd=repo)
    assert empty.returncode == 1
    assert "query must not be empty" in empty.stderr
    too_many = devfactory("search", "x", "--limit", "500", cwd=repo)
    assert too_many.returncode == 1
    assert "limit must be between 1 and 200, got 500" in too_many.stderr
    outside = devfactory("search", "x", "--path", "/etc/*", cwd=repo)
    assert outside.returncode == 1
    assert "outside the workspace" in outside.stderr
    unknown = devfactory("search", "x", "--mode", "fuzzy", cwd=repo)
    assert unknown.returncode == 2  # refused by the CLI before any daemon starts
    assert "'fuzzy' is not one of 'lexical', 'semantic', 'hybrid'" in unknown.stderr


def test_search_grouped_by_file(repo: Path):
    """--group-by file lists files best first, each with its best chunks under it."""
    found = devfactory(
        "search", "compute invoice total", "-m", "lexical", "--group-by", "file",
        "--chunks-per-file", "1", "--json", cwd=repo,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    files = json.loads(found.stdout)
    assert [file["path"] for file in files] == ["billing/invoices.py", "tests/test_invoices.py"]
    assert files[0] == {
        "path": "billing/invoices.py",
        "language": "python",
        "source_type": "code",
        "score": files[0]["score"],
        "hits": [
            {
                "path": "billing/invoices.py",
                "start_line": 1,
                "end_line": 3,
                "symbol": "billing.invoices.compute_invoice_total",
                "kind": "function",
                "language": "python",
                "score": files[0]["score"],
                "snippet": FILES["billing/invoices.py"].rstrip("\n"),
            }
        ],
    }
    assert [len(file["hits"]) for file in files] == [1, 1]

    text = devfactory("search", "invoice total", "-m", "lexical", "--group-by", "file", cwd=repo)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(" 1. billing/invoices.py  ")
    assert lines[1].startswith(
        "      billing/invoices.py:1-3  billing.invoices.compute_invoice_total"
    )
    assert lines[-1].startswith("2 files, lexical, ")

    too_many = devfactory("search", "x", "--group-by", "file", "--chunks-per-file", "50", cwd=repo)
    assert too_many.returncode == 2  # refused by the CLI, naming the option
    assert "--chunks-per-file" in too_many.stderr


def test_map_writes_the_project_map(repo: Path):
    mapped = devfactory("map", cwd=repo)
    assert mapped.returncode == 0, mapped.stderr
    assert mapped.stdout.strip() == f"wrote {repo / 'PROJECT_MAP.md'} (no framework detected)"
    text = (repo / "PROJECT_MAP.md").read_text()
    assert text.startswith("# Project map: shop\n")
    assert "`billing.invoices.compute_invoice_total` (function, line 1)" in text


@pytest.mark.parametrize(("settings", "watching"), [(None, True), ("one-shot", False)])
async def test_a_daemon_started_for_one_command_does_not_watch(
    repo: Path, settings: str | None, watching: bool
) -> None:
    """The CLI's daemon is gone with its command: watching the tree is work nobody sees."""
    import asyncio

    from devfactory.protocol.index import IndexRebuildParams
    from devfactory.protocol.methods import Requests
    from devfactory.server.cli.client import connect
    from devfactory.server.cli.index_commands import ONE_SHOT

    async with connect(repo, ONE_SHOT if settings else None) as client:
        await client.call(Requests.INDEX_REBUILD, IndexRebuildParams(embed=False))
        seen = []
        for _ in range(30):  # the watcher starts once the first pass is done
            seen.append((await client.call(Requests.INDEX_STATUS)).watching)
            if seen[-1]:
                break
            await asyncio.sleep(0.1)
    assert seen[-1] is watching


async def test_a_daemon_started_for_one_command_makes_one_pass(repo: Path) -> None:
    """The command's own pass does the work: the daemon made no start-up pass before it
    (which left the command's pass to find every file unchanged, a second walk for nothing)."""
    from devfactory.protocol.index import IndexRebuildParams
    from devfactory.protocol.methods import Requests
    from devfactory.server.cli.client import connect
    from devfactory.server.cli.index_commands import ONE_SHOT

    async with connect(repo, ONE_SHOT) as client:
        result = await client.call(Requests.INDEX_REBUILD, IndexRebuildParams(embed=False))
    assert (result.files_indexed, result.files_unchanged, result.chunks) == (3, 0, 4)


def test_index_without_embeddings_embeds_nothing(repo: Path, tmp_path: Path):
    """--no-embed: no embedding starts in the background of the command's daemon."""
    import sqlite3

    indexed = devfactory("index", "--no-embed", str(repo), cwd=tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stdout.startswith("3 files indexed (0 skipped) into 4 chunks; up to date in")
    assert "Embedding" not in indexed.stderr
    db = sqlite3.connect(repo / ".devfactory" / "devfactory.db")
    try:
        embedded = db.execute("SELECT count(*) FROM rag_chunks WHERE embedded = 1").fetchone()
        models = db.execute("SELECT value FROM rag_meta WHERE key = 'embedder'").fetchall()
    finally:
        db.close()
    assert (embedded[0], models) == (0, [])
