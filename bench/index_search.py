"""Indexing and search over the Django 5.2.8 source distribution (and 2x/4x copies of it).

Method (all in this session, on this machine, warm page cache):
- corpus: ``pip download --no-deps --no-binary :all: django==5.2.8`` into ``bench/.corpus``
  (gitignored), unpacked, each copy a fresh ``git init`` (files listed with git ls-files);
- floor: ripgrep reading every byte of the same tree (``rg -uuu -c <absent literal>``);
- cold index: a fresh database, ``IndexService.rebuild()`` with the embedder off (lexical +
  symbols), each run in its own process so its peak RSS (daemon process and the largest worker
  process) is its own; embeddings are timed separately, on the 1x index;
- incremental: a file gets a new function, ``IndexService.update([path])`` (what didSave does),
  then a lexical search must return the new function: time from the write to the hit;
- search: 200 queries per mode through ``IndexService.search`` (SQL, fusion, snippets);
- quality: for each public function in ``django/`` with a docstring, the first sentence of the
  docstring with the function's name removed is the query and the defining file the answer;
  a fixed-seed sample of them. File-level recall@1/5/10 and MRR for lexical, semantic and hybrid
  against a plain whole-file BM25 baseline (SQLite FTS5, one row per file, same query words);
  on an embedded 4x index, ``--child quality ROOT STATE`` scores the same set (an answer found
  in any copy counts).

Run: ``uv run python -m bench index_search`` (about 10 minutes). Figures are printed as
Markdown and saved to ``bench/.results/index_search.json``.
"""

from __future__ import annotations

import ast
import asyncio
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import median, open_index_service, percentile, row

if TYPE_CHECKING:
    from devfactory.protocol.enums import SearchMode
    from devfactory.storage.ports import BufferIndex

DJANGO = "django==5.2.8"
ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / ".corpus"
RESULTS = ROOT / ".results"
SCALES = (1, 2, 4)
COLD_REPEATS = {1: 3, 2: 2, 4: 2}
SEARCH_QUERIES = 200
SCALE_QUERIES = 120
QUALITY_QUERIES = 500
INCREMENTAL_EDITS = 40
SEED = 7


# -- corpus --------------------------------------------------------------------------------------


def django_tree() -> Path:
    """The unpacked sdist (downloaded once with pip)."""
    target = CORPUS / "django-5.2.8"
    if target.is_dir():
        return target
    CORPUS.mkdir(parents=True, exist_ok=True)
    pip = shutil.which("pip") or shutil.which("pip3")
    command = [pip] if pip else [sys.executable, "-m", "pip"]
    subprocess.run(
        [*command, "download", "--no-deps", "--no-binary", ":all:", DJANGO, "-d", str(CORPUS)],
        check=True,
    )
    with tarfile.open(next(CORPUS.glob("[Dd]jango-5.2.8.tar.gz"))) as archive:
        archive.extractall(CORPUS, filter="data")
    return target


def scaled_tree(scale: int) -> Path:
    """``scale`` copies of the sdist side by side, in a git repository of its own."""
    target = CORPUS / f"scale-{scale}"
    if not (target / ".git").is_dir():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for copy in range(scale):
            shutil.copytree(
                django_tree(), target / f"copy{copy}", ignore=shutil.ignore_patterns(".git")
            )
        subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    return target


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


# -- one measurement per process -----------------------------------------------------------------


async def _cold(root: Path, state: Path) -> dict[str, Any]:
    store, service = await open_index_service(root, state, "none")
    started = time.perf_counter()
    result = await service.rebuild()
    seconds = time.perf_counter() - started
    await service.stop()
    await store.close()
    return {"seconds": seconds, "files": result.files_indexed, "chunks": result.chunks}


async def _embed(root: Path, state: Path) -> dict[str, Any]:
    store, service = await open_index_service(root, state, "wordllama")
    await service.rebuild()
    service.embedder.load()
    started = time.perf_counter()
    await service.rebuild(embed=True)
    seconds = time.perf_counter() - started
    status = await service.status()
    await service.stop()
    await store.close()
    return {"seconds": seconds, "chunks": status.embedded_chunks}


async def latency(service: Any, queries: Sequence[str], mode: SearchMode) -> dict[str, float]:
    """p50 and p95 of ``service.search`` over ``queries`` in one mode, limit 10."""
    from devfactory.protocol.index import SearchParams

    times = []
    for query in queries:
        started = time.perf_counter()
        await service.search(SearchParams(query=query, mode=mode, limit=10))
        times.append(time.perf_counter() - started)
    return {"p50_ms": percentile(times, 50) * 1000, "p95_ms": percentile(times, 95) * 1000}


async def _search(root: Path, state: Path) -> dict[str, Any]:
    """Latency on an index already built and embedded under ``state`` (the 4x copy: its
    queries come from ``copy0``), SCALE_QUERIES per mode, after one warm-up query that loads
    the vectors; ``root`` must be spelled as when the index was built."""
    from devfactory.protocol.enums import SearchMode
    from devfactory.protocol.index import SearchParams

    store, service = await open_index_service(root, state, "wordllama")
    embedding = service.ensure_embedding()
    if embedding is not None:
        await embedding
    source = root / "copy0" if (root / "copy0").is_dir() else root
    queries = [query for query, _ in quality_set(source, SCALE_QUERIES)]
    out: dict[str, Any] = {"queries": len(queries)}
    for mode in SearchMode:
        await service.search(SearchParams(query="warm up", mode=mode, limit=10))
        out[mode.value] = await latency(service, queries, mode)
    await service.stop()
    await store.close()
    return out


async def _quality(root: Path, state: Path) -> dict[str, Any]:
    """Retrieval quality on an index already built and embedded under ``state`` (the 4x copy:
    its queries come from ``copy0``, and an answer found in any copy counts, as the copies are
    the same files), QUALITY_QUERIES queries per mode, limit 50."""
    from devfactory.protocol.enums import SearchMode
    from devfactory.protocol.index import SearchParams

    store, service = await open_index_service(root, state, "wordllama")
    embedding = service.ensure_embedding()
    if embedding is not None:
        await embedding
    copies = (root / "copy0").is_dir()
    pairs = quality_set(root / "copy0" if copies else root, QUALITY_QUERIES)
    out: dict[str, Any] = {"queries": len(pairs)}
    for mode in SearchMode:
        rankings = []
        for query, _ in pairs:
            result = await service.search(SearchParams(query=query, mode=mode, limit=50))
            paths = [hit.path.split("/", 1)[1] if copies else hit.path for hit in result.hits]
            rankings.append(file_ranking(paths))
        out[mode.value] = score(rankings, [answer for _, answer in pairs])
    await service.stop()
    await store.close()
    return out


def child_main(kind: str, root: str, state: str) -> None:
    """``python -m bench.index_search --child KIND ROOT STATE``: one run, JSON on stdout."""
    action = {"cold": _cold, "embed": _embed, "search": _search, "quality": _quality}[kind]
    result = asyncio.run(action(Path(root), Path(state)))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def run_child(kind: str, root: Path, state: Path) -> dict[str, Any]:
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.index_search", "--child", kind, str(root), str(state)],
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def ripgrep_seconds(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["rg", "-uuu", "-c", "devfactory-absent-literal-8c1f", str(root)],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


# -- queries -------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def quality_set(root: Path, size: int) -> list[tuple[str, str]]:
    """(query, defining file) pairs from public functions' docstrings in ``django/``."""
    pairs: list[tuple[str, str]] = []
    for path in sorted((root / "django").rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes())
        except SyntaxError:
            continue
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith("_"):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            text = " ".join(doc.split())
            sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
            query = " ".join(re.sub(rf"\b{re.escape(node.name)}\b", " ", sentence).split())
            if len(query.split()) >= 3:
                pairs.append((query, rel))
    rng = random.Random(SEED)
    return rng.sample(pairs, min(size, len(pairs)))


def file_ranking(paths: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(paths))


def score(rankings: Sequence[list[str]], answers: Sequence[str]) -> dict[str, float]:
    recall = {1: 0, 5: 0, 10: 0}
    reciprocal = 0.0
    for ranking, answer in zip(rankings, answers, strict=True):
        if answer in ranking:
            position = ranking.index(answer) + 1
            reciprocal += 1 / position
            for k in recall:
                recall[k] += position <= k
    n = len(answers)
    return {
        "recall@1": recall[1] / n,
        "recall@5": recall[5] / n,
        "recall@10": recall[10] / n,
        "mrr": reciprocal / n,
    }


def whole_file_bm25(
    buffers: BufferIndex, root: Path, queries: Sequence[str], limit: int = 50
) -> list[list[str]]:
    """The baseline: one full-text row per file (a buffer index of whole files), BM25 over
    the content alone, same query words."""
    from devfactory.server.index.discovery import skip_by_name
    from devfactory.server.index.ranking import fts_expression
    from devfactory.server.project.files import list_workspace_files
    from devfactory.storage.ports import FileUpdate, NewChunk

    for rel in list_workspace_files(root):
        if skip_by_name(rel):
            continue
        try:
            text = (root / rel).read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        whole = NewChunk(None, None, None, 1, text.count("\n") + 1, text, "", "", "")
        buffers.put(FileUpdate(rel, None, "code", len(text), 0, "", None, [whole]))
    rankings = []
    for query in queries:
        expression = fts_expression(query)
        found = (
            buffers.lexical(f"content : ({expression})", limit, CONTENT_ONLY, None)
            if expression
            else []
        )
        rankings.append([row.path for row in found])
    return rankings


CONTENT_ONLY = (1.0, 0.0, 0.0, 0.0)
"""BM25 weights of the baseline: the content column alone."""


async def searches_and_quality(root: Path, state: Path) -> dict[str, Any]:
    """On the 1x tree, embedded: search latency, incremental latency, retrieval quality."""
    from devfactory.protocol.enums import SearchMode
    from devfactory.protocol.index import SearchParams

    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    store, service = await open_index_service(root, state, "wordllama")
    await service.rebuild(embed=True)
    pairs = quality_set(root, QUALITY_QUERIES)
    queries = [query for query, _ in pairs]
    answers = [answer for _, answer in pairs]
    out: dict[str, Any] = {"quality_queries": len(pairs)}

    for mode in SearchMode:  # warm-up: caches, the model, SQLite pages
        await service.search(SearchParams(query=queries[0], mode=mode, limit=10))
    latencies: dict[str, dict[str, float]] = {}
    for mode in SearchMode:
        latencies[mode.value] = await latency(service, queries[:SEARCH_QUERIES], mode)
    out["search"] = latencies

    quality: dict[str, dict[str, float]] = {}
    for mode in SearchMode:
        rankings = []
        for query in queries:
            result = await service.search(SearchParams(query=query, mode=mode, limit=50))
            rankings.append(file_ranking([hit.path for hit in result.hits]))
        quality[mode.value] = score(rankings, answers)
    buffers = store.index.open_buffers()
    quality["whole-file BM25"] = score(whole_file_bm25(buffers, root, queries), answers)
    buffers.close()
    out["quality"] = quality

    rng = random.Random(SEED)
    candidates = sorted(p.relative_to(root).as_posix() for p in (root / "django").rglob("*.py"))
    edits = []
    for index in range(INCREMENTAL_EDITS):
        rel = rng.choice(candidates)
        marker = f"zz_incremental_marker_{index}"
        path = root / rel
        original = path.read_text("utf-8")
        started = time.perf_counter()
        path.write_text(original + f"\n\ndef {marker}():\n    return {index}\n", "utf-8")
        await service.update([rel])
        result = await service.search(SearchParams(query=marker, mode=SearchMode.LEXICAL, limit=1))
        edits.append(time.perf_counter() - started)
        assert result.hits and result.hits[0].path == rel, (marker, result.hits)
        path.write_text(original, "utf-8")
        await service.update([rel])
    out["incremental"] = {
        "p50_ms": percentile(edits, 50) * 1000,
        "p95_ms": percentile(edits, 95) * 1000,
    }
    await service.stop()
    await store.close()
    return out


# -- report --------------------------------------------------------------------------------------


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="devfactory-bench-"))
    report: dict[str, Any] = {"cold": {}, "ripgrep": {}}
    try:
        for scale in SCALES:
            root = scaled_tree(scale)
            size = tree_bytes(root)
            rg = [ripgrep_seconds(root) for _ in range(3)]
            runs = [run_child("cold", root, scratch / "cold") for _ in range(COLD_REPEATS[scale])]
            report["ripgrep"][scale] = median(rg)
            report["cold"][scale] = {
                "mb": size / 1e6,
                "seconds": median([r["seconds"] for r in runs]),
                "runs": [round(r["seconds"], 2) for r in runs],
                "files": runs[0]["files"],
                "chunks": runs[0]["chunks"],
                "rss_mb": max(r["rss_mb"] for r in runs),
                "worker_rss_mb": max(r["worker_rss_mb"] for r in runs),
            }
            print(f"{scale}x: {report['cold'][scale]}", file=sys.stderr)
        embeds = [run_child("embed", scaled_tree(1), scratch / "embed") for _ in range(2)]
        report["embed"] = {
            "seconds": median([e["seconds"] for e in embeds]),
            "chunks": embeds[0]["chunks"],
            "rss_mb": max(e["rss_mb"] for e in embeds),
        }
        work = scratch / "work"
        shutil.copytree(django_tree(), work, ignore=shutil.ignore_patterns(".git"))
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        report.update(asyncio.run(searches_and_quality(work, scratch / "search")))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    (RESULTS / "index_search.json").write_text(json.dumps(report, indent=2))
    print_markdown(report)


def print_markdown(report: dict[str, Any]) -> None:
    print(
        row(
            "corpus",
            "MB",
            "files",
            "chunks",
            "ripgrep",
            "cold index (median)",
            "runs (s)",
            "MB/s",
            "x ripgrep",
            "peak RSS daemon / worker",
        )
    )
    print(row(*["---"] * 10))
    for scale, cold in report["cold"].items():
        rg = report["ripgrep"][scale]
        print(
            row(
                f"Django {scale}x",
                f"{cold['mb']:.1f}",
                cold["files"],
                cold["chunks"],
                f"{rg:.2f} s",
                f"{cold['seconds']:.2f} s",
                cold["runs"],
                f"{cold['mb'] / cold['seconds']:.1f}",
                f"{cold['seconds'] / rg:.0f}",
                f"{cold['rss_mb']:.0f} / {cold['worker_rss_mb']:.0f} MB",
            )
        )
    embed = report["embed"]
    print(
        f"\nEmbeddings (WordLlama 256-d, 1x): {embed['chunks']} chunks in "
        f"{embed['seconds']:.1f} s ({embed['chunks'] / embed['seconds']:.0f} chunks/s), "
        f"peak RSS {embed['rss_mb']:.0f} MB"
    )
    inc = report["incremental"]
    print(
        f"Incremental (write, update, searchable): p50 {inc['p50_ms']:.1f} ms,"
        f" p95 {inc['p95_ms']:.1f} ms"
    )
    print("\n" + row("mode", "p50", "p95"))
    print(row("---", "---", "---"))
    for mode, figures in report["search"].items():
        print(row(mode, f"{figures['p50_ms']:.1f} ms", f"{figures['p95_ms']:.1f} ms"))
    print(f"\nQuality ({report['quality_queries']} queries)\n")
    print(row("ranking", "recall@1", "recall@5", "recall@10", "MRR"))
    print(row("---", "---", "---", "---", "---"))
    for name, figures in report["quality"].items():
        print(
            row(name, *(f"{figures[k]:.3f}" for k in ("recall@1", "recall@5", "recall@10", "mrr")))
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_main(*sys.argv[2:5])
    else:
        main()
