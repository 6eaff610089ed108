"""Indexing passes against a real database: what is re-read, re-parsed, skipped and dropped."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from devfactory.protocol.index import IndexRebuildResult
from devfactory.protocol.settings import IndexSettings
from devfactory.server.index import indexer as indexer_module
from devfactory.server.index import worker
from devfactory.server.index.indexer import Indexer
from devfactory.storage import Store
from support import make_git_repo, write_files

FILES: dict[str, str | bytes] = {
    "app/models.py": "class Invoice:\n    def total(self):\n        return 1\n",
    "app/views.py": "def show_invoice(request):\n    return Invoice()\n",
    "README.md": "# Billing\n\nInvoices and payments.\n",
    "logo.png": b"\x89PNG\0\0",
    "data.bin": b"\0\1\2\3",
    "latin1.txt": "caf\xe9".encode("latin-1"),
    "node_modules/lib/index.js": "module.exports = 1\n",
    ".gitignore": "ignored/\n",
    "ignored/secret.py": "TOKEN = 1\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_git_repo(tmp_path / "repo", FILES)


async def make_indexer(store: Store, root: Path, **settings: object) -> Indexer:
    project = await store.projects.register(
        root_path=str(root), name="repo", slug="repo", default_branch=None, current_branch=None
    )
    return Indexer(store, project.id, root, IndexSettings(**settings))  # type: ignore[arg-type]


def counts(result: IndexRebuildResult) -> IndexRebuildResult:
    return msgspec.structs.replace(result, duration_ms=0)


async def test_first_pass_indexes_text_and_skips_the_rest(store: Store, repo: Path):
    indexer = await make_indexer(store, repo)
    result = await indexer.sync()
    assert counts(result) == IndexRebuildResult(
        files_seen=8,  # .gitignore'd files are never listed
        files_indexed=4,  # two .py files, README.md and .gitignore
        files_unchanged=0,
        files_removed=0,
        files_skipped=4,  # logo.png, data.bin, latin1.txt, node_modules/
        chunks=result.chunks,
        duration_ms=0,
    )
    states = await store.index.file_states(indexer.project_id)
    assert {path: state.skip_reason for path, state in states.items() if state.skip_reason} == {
        "logo.png": "binary",
        "data.bin": "binary",
        "latin1.txt": "undecodable",
        "node_modules/lib/index.js": "vendored",
    }


async def test_unchanged_files_are_not_reread_and_same_content_is_not_reparsed(
    store: Store, repo: Path, monkeypatch: pytest.MonkeyPatch
):
    indexer = await make_indexer(store, repo)
    await indexer.sync()
    chunk_ids = [row.id for row in await store.index.all_chunks(indexer.project_id)]
    parsed: list[str] = []
    real_chunk_file = worker.chunk_file
    monkeypatch.setattr(
        worker, "chunk_file", lambda path, *a: parsed.append(path) or real_chunk_file(path, *a)
    )

    second = await indexer.sync()
    assert (second.files_indexed, second.files_unchanged, parsed) == (0, 8, [])

    views = repo / "app/views.py"
    os.utime(views, ns=(0, 1_000_000_000))  # new mtime, same bytes: hashed, not parsed
    third = await indexer.sync()
    assert (third.files_indexed, third.files_unchanged, parsed) == (0, 8, [])
    assert [row.id for row in await store.index.all_chunks(indexer.project_id)] == chunk_ids
    fourth = await indexer.sync()
    assert (fourth.files_unchanged, parsed) == (8, [])  # the new mtime was recorded

    views.write_text("def show_receipt(request):\n    return 2\n")
    fifth = await indexer.sync()
    assert (fifth.files_indexed, fifth.files_unchanged, parsed) == (1, 7, ["app/views.py"])
    symbols = {row.symbol for row in await store.index.all_chunks(indexer.project_id)}
    assert "app.views.show_receipt" in symbols
    assert "app.views.show_invoice" not in symbols


async def test_deleted_and_newly_ignored_files_leave_no_chunks(store: Store, repo: Path):
    indexer = await make_indexer(store, repo)
    await indexer.sync()
    (repo / "app/views.py").unlink()
    write_files(repo, {".devfactoryignore": "README.md\n"})
    result = await indexer.sync()
    assert (result.files_removed, result.files_indexed) == (2, 1)  # + .devfactoryignore
    paths = {row.path for row in await store.index.all_chunks(indexer.project_id)}
    assert paths == {"app/models.py", ".gitignore", ".devfactoryignore"}
    fts_rows = await store.db.scalar("SELECT count(*) FROM rag_chunks_fts")
    assert fts_rows == len(await store.index.all_chunks(indexer.project_id))


async def test_targeted_updates_add_change_and_remove(store: Store, repo: Path):
    indexer = await make_indexer(store, repo)
    await indexer.sync()
    write_files(repo, {"app/new.py": "def fresh():\n    pass\n"})
    (repo / "app/models.py").unlink()
    result = await indexer.update_paths(["app/new.py", "app/models.py", "ignored/secret.py"])
    assert (result.files_indexed, result.files_removed) == (1, 1)
    paths = {row.path for row in await store.index.all_chunks(indexer.project_id)}
    assert "app/new.py" in paths and "app/models.py" not in paths
    assert "ignored/secret.py" not in paths


async def test_size_cap_and_full_rebuild(store: Store, repo: Path):
    indexer = await make_indexer(store, repo, max_file_bytes=40)
    result = await indexer.sync()
    states = await store.index.file_states(indexer.project_id)
    assert states["app/models.py"].skip_reason == "too_large"
    rebuilt = await indexer.sync(full=True)
    assert (rebuilt.files_indexed, rebuilt.files_skipped) == (
        result.files_indexed,
        result.files_skipped,
    )


async def test_large_passes_parse_and_write_in_worker_processes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    files = {f"pkg/m{i}.py": f"def function_{i}():\n    return {i}\n" for i in range(40)}
    root = make_git_repo(tmp_path / "many", files)
    monkeypatch.setattr(indexer_module, "PROCESS_POOL_THRESHOLD", 10)
    indexer = await make_indexer(store, root)
    result = await indexer.sync()
    assert (result.files_indexed, result.chunks) == (40, 40)
    names = sorted(row.name or "" for row in await store.index.all_chunks(indexer.project_id))
    assert names == sorted(f"function_{i}" for i in range(40))


@pytest.mark.parametrize(("files", "size"), [(5414, 256), (300, 38), (40, 5), (3, 1), (0, 1)])
def test_batches_are_large_but_spread_over_every_worker(
    files: int, size: int, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(indexer_module, "_worker_count", lambda: 2)
    assert indexer_module.batch_size(files) == size


def _failing_worker_start(database_path: str, project_id: int, write_turn: object) -> None:
    raise RuntimeError("no worker processes here")


async def test_broken_worker_processes_fall_back_to_a_thread(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    files = {f"pkg/m{i}.py": f"def function_{i}():\n    return {i}\n" for i in range(12)}
    root = make_git_repo(tmp_path / "many", files)
    monkeypatch.setattr(indexer_module, "PROCESS_POOL_THRESHOLD", 10)
    monkeypatch.setattr(indexer_module, "init_process", _failing_worker_start)
    indexer = await make_indexer(store, root)
    result = await indexer.sync()
    assert (result.files_indexed, result.chunks) == (12, 12)


async def test_worker_processes_start_while_a_big_pass_is_planned(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Their start-up (a Python process importing tree-sitter) overlaps the planning (a stat
    of every file) instead of following it."""
    import multiprocessing

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: passes parse in a thread")
    files = {f"pkg/m{i}.py": f"def function_{i}():\n    return {i}\n" for i in range(12)}
    root = make_git_repo(tmp_path / "many", files)
    monkeypatch.setattr(indexer_module, "PROCESS_POOL_THRESHOLD", 10)
    indexer = await make_indexer(store, root)
    plan = indexer._plan
    workers_while_planning: list[int] = []

    def watched_plan(*args: object) -> object:
        workers_while_planning.append(len(multiprocessing.active_children()))
        return plan(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(indexer, "_plan", watched_plan)
    result = await indexer.sync()
    assert (result.files_indexed, result.chunks) == (12, 12)
    assert workers_while_planning[0] >= 1


async def test_indexable_paths_are_those_a_pass_reads_and_outsiders_are_listed_for_once(
    store: Store, repo: Path, monkeypatch: pytest.MonkeyPatch
):
    indexer = await make_indexer(store, repo)
    await indexer.sync()
    listings: list[Path] = []
    real_list = indexer_module.list_workspace_files

    def counted(root: Path, excludes: object) -> list[str]:
        listings.append(root)
        return real_list(root, excludes)  # type: ignore[arg-type]

    monkeypatch.setattr(indexer_module, "list_workspace_files", counted)
    asked = ["app/models.py", "ignored/secret.py", ".git/config", "node_modules/lib/index.js"]
    assert await indexer.indexable(asked) == {"app/models.py"}
    assert await indexer.indexable(asked) == {"app/models.py"}
    assert len(listings) == 1  # an outsider asked about again does not list again

    (repo / "app/new.py").write_text("def fresh():\n    pass\n")
    assert await indexer.indexable(["app/new.py"]) == {"app/new.py"}  # new: listed again
    assert len(listings) == 2
