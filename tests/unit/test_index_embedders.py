"""Embedders and the semantic side of the index: the bundled WordLlama model works with no
network at all, an OpenAI-compatible endpoint (a fake one on 127.0.0.1, driven by the real
``openai`` SDK) works, and switching embedders re-embeds everything in the new dimension."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devfactory.protocol.enums import SearchMode
from devfactory.protocol.index import SearchParams
from devfactory.protocol.settings import IndexSettings
from devfactory.server.errors import Unavailable
from devfactory.server.index.embedders import (
    EmbedderUnavailable,
    OpenAIEmbedder,
    copy_atomically,
    make_embedder,
)
from devfactory.storage import Store
from index_support import make_index_service
from support import make_git_repo

DIMS = 64


def fake_vector(text: str) -> list[float]:
    """A bag-of-words hash: texts sharing words get similar vectors."""
    vector = [0.0] * DIMS
    for word in re.findall(r"\w+", text.lower()):
        vector[hashlib.md5(word.encode()).digest()[0] % DIMS] += 1.0
    return vector


class EmbeddingsHandler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        EmbeddingsHandler.requests.append({"path": self.path, "body": body})
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text)}
            for i, text in enumerate(body["input"])
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def embeddings_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


FILES = {
    "billing.py": 'def refund(payment):\n    """Give the customer money back."""\n',
    "shipping.py": 'def ship(parcel):\n    """Send the parcel by truck."""\n',
}


async def test_openai_compatible_endpoint_through_the_real_sdk(embeddings_url: str):
    embedder = OpenAIEmbedder("nomic-embed-text", embeddings_url, api_key=None)
    vectors = await embedder.embed(["hello world", "other words"])
    assert vectors.shape == (2, DIMS)
    assert embedder.dimensions == DIMS
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-5  # unit length
    last = EmbeddingsHandler.requests[-1]
    assert last["path"] == "/v1/embeddings"
    assert last["body"]["model"] == "nomic-embed-text"
    assert embedder.name == f"openai:{embeddings_url}:nomic-embed-text"


def test_openai_without_key_or_url_is_refused_with_a_fix(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("DEVFACTORY_EMBEDDING_API_KEY", raising=False)
    with pytest.raises(EmbedderUnavailable, match="OPENAI_API_KEY is not set"):
        make_embedder(IndexSettings(embedder="openai"), Path("/nonexistent"))
    assert make_embedder(IndexSettings(embedder="none"), Path("/nonexistent")) is None


async def test_switching_embedders_re_embeds_in_the_new_dimension(
    store: Store, tmp_path: Path, embeddings_url: str
):
    root = make_git_repo(tmp_path / "repo", FILES)
    first = await make_index_service(
        store, root, tmp_path / "cache", embedder="openai", embedding_base_url=embeddings_url
    )
    await first.rebuild(embed=True)
    status = await first.status()
    assert (status.embedded_chunks, status.chunks) == (2, 2)
    result = await first.search(
        SearchParams(query="send the parcel by truck", mode=SearchMode.SEMANTIC, limit=1)
    )
    assert [hit.path for hit in result.hits] == ["shipping.py"]
    await first.stop()

    second = await make_index_service(store, root, tmp_path / "cache", embedder="wordllama")
    await second.rebuild(embed=True)
    status = await second.status()
    assert (status.embedded_chunks, status.embedder) == (2, "wordllama:l2_supercat:256")
    # The 256-d vectors were stored (the table was recreated) and answer queries.
    result = await second.search(
        SearchParams(query="send the parcel by truck", mode=SearchMode.SEMANTIC, limit=1)
    )
    assert [hit.path for hit in result.hits] == ["shipping.py"]
    await second.stop()


async def test_a_restarted_index_searches_its_stored_vectors_before_its_first_pass(
    store: Store, tmp_path: Path
):
    """A daemon's start-up pass can take minutes on a big workspace: meanwhile semantic search
    answers from the vectors the last daemon stored, and before any are stored it says it
    waits for them (it said index.embedder was none, and hybrid search went lexical)."""
    root = make_git_repo(tmp_path / "repo", FILES)
    query = SearchParams(query="send the parcel by truck", mode=SearchMode.SEMANTIC, limit=1)
    first = await make_index_service(
        store, root, tmp_path / "cache", embedder="wordllama", pass_on_start=False
    )
    await first.start()
    with pytest.raises(Unavailable, match="waits for the chunks to be embedded with wordllama"):
        await first.search(query)
    await first.rebuild(embed=True)
    await first.stop()

    restarted = await make_index_service(
        store, root, tmp_path / "cache", embedder="wordllama", pass_on_start=False
    )
    await restarted.start()  # no pass, no embedding: the vectors are the first daemon's
    result = await restarted.search(query)
    assert [hit.path for hit in result.hits] == ["shipping.py"]
    await restarted.stop()


async def test_semantic_search_without_an_embedder_says_how_to_fix_it(store: Store, tmp_path: Path):
    root = make_git_repo(tmp_path / "repo", FILES)
    service = await make_index_service(store, root, tmp_path / "cache", embedder="none")
    await service.rebuild()
    with pytest.raises(Unavailable, match="index.embedder is none"):
        await service.search(SearchParams(query="refund", mode=SearchMode.SEMANTIC))
    hybrid = await service.search(SearchParams(query="refund", mode=SearchMode.HYBRID))
    assert [hit.path for hit in hybrid.hits] == ["billing.py"]  # lexical half only
    await service.stop()


OFFLINE_CHECK = """
import sys
from pathlib import Path
from devfactory.server.index.embedders import WordLlamaEmbedder
embedder = WordLlamaEmbedder(Path(sys.argv[1]))
vectors = embedder.embed_sync(["def parse_url(raw): ...", "send the parcel"])
print(vectors.shape, sorted(p.name for p in (Path(sys.argv[1]) / "tokenizers").iterdir()))
"""


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare (util-linux) is missing")
def test_wordllama_loads_and_embeds_with_no_network(tmp_path: Path):
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    completed = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", OFFLINE_CHECK, str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "(2, 256) ['l2_supercat_tokenizer_config.json']"


def test_vector_cache_grows_and_finds_nearest_first():
    import numpy as np

    from devfactory.server.index.vectors import VectorCache

    def unit(*values: float) -> np.ndarray:
        vector = np.asarray(values, dtype=np.float32)
        return vector / np.linalg.norm(vector)

    cache = VectorCache()
    cache.add([1], unit(1, 0)[None, :])  # not loaded yet: ignored
    cache.load([10, 11], bytearray(unit(1, 0).tobytes() + unit(0, 1).tobytes()), 2)
    assert not cache.stale
    appended = np.tile(unit(1, 1), (1080, 1))
    appended[0] = unit(1, 0.5)
    cache.add(list(range(20, 1100)), appended)  # grows past its capacity
    assert cache.stale  # mostly appended rows: reload at the next query
    nearest = cache.nearest(unit(1, 0.1).tobytes(), 2)
    assert [chunk_id for chunk_id, _ in nearest] == [10, 20]
    assert nearest[0][1] < nearest[1][1]
    cache.clear()
    assert cache.nearest(unit(1, 0).tobytes(), 3) == []


def test_a_tokenizer_being_copied_is_never_seen_half_written(tmp_path: Path) -> None:
    """A daemon and its index worker load the same model cache at once: while one refreshes
    the tokenizer copy, the other must read the whole file or the old one, never a prefix
    (WordLlama then failed with "stream did not contain valid UTF-8")."""
    source = tmp_path / "tokenizer.json"
    source.write_text(json.dumps({"vocab": ["ü" * 64] * 20_000}))
    expected = source.read_bytes()
    target = tmp_path / "cache" / "tokenizer.json"
    target.parent.mkdir()
    copy_atomically(source, target)
    done = threading.Event()

    def refresh() -> None:
        while not done.is_set():
            copy_atomically(source, target)

    writer = threading.Thread(target=refresh)
    writer.start()
    try:
        torn = sum(target.read_bytes() != expected for _ in range(300))
    finally:
        done.set()
        writer.join()
    assert torn == 0
    assert [p.name for p in target.parent.iterdir()] == ["tokenizer.json"]


TOKENIZER_TEXTS = [
    "def parse_url(raw):\n    return urlsplit(raw)",
    "class Meta:\n\t\tordering = ['-created']\n",
    "        if x:\n            return  None  \n",
    "  leading and trailing spaces  ",
    "a <s> strikethrough</s> in a template",
    "\u2581already\u2581marked \u2581\u2581",
    "日本語のテキスト 🙂 naïve café",
    "\n\n\t",
    " ",
    "",
]


@pytest.fixture(scope="module")
def wordllama(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from devfactory.server.index.embedders import WordLlamaEmbedder

    embedder = WordLlamaEmbedder(tmp_path_factory.mktemp("cache"))
    embedder.load()
    return embedder


def test_loads_asked_for_at_once_load_the_model_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon warms the model up on one thread while the first embedding asks for it on
    another: each used to load a copy of its own (seen twice in a daemon's log)."""
    from wordllama import WordLlama

    from devfactory.server.index.embedders import WordLlamaEmbedder

    loads = []
    real_load = WordLlama.load

    def counted_load(*args: Any, **kwargs: Any) -> Any:
        loads.append(threading.current_thread().name)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(WordLlama, "load", counted_load)
    embedder = WordLlamaEmbedder(tmp_path)
    together = threading.Barrier(3)
    models: list[Any] = []

    def load() -> None:
        together.wait()
        models.append(embedder.load())

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1, loads
    assert len(models) == 3 and all(model is models[0] for model in models)


@pytest.mark.parametrize("text", TOKENIZER_TEXTS)
def test_word_pieces_give_the_tokenizers_own_ids(wordllama: Any, text: str) -> None:
    from devfactory.server.index.wordpieces import WordPieces

    tokenizer = wordllama.load().tokenizer
    assert WordPieces.fits(tokenizer)
    pieces = WordPieces(tokenizer)
    expected = tokenizer.encode(text, add_special_tokens=False).ids
    assert list(pieces.ids(text)) == expected
    assert list(pieces.ids(text)) == expected  # from the cache


def test_wordllama_vectors_are_the_models_own_means(wordllama: Any) -> None:
    import numpy as np

    model = wordllama.load()
    texts = [text for text in TOKENIZER_TEXTS if text]
    vectors = wordllama.embed_sync(texts)
    model.tokenizer.enable_padding()
    try:
        expected = model.embed(texts, norm=True, batch_size=4)
    finally:
        model.tokenizer.no_padding()
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, expected, atol=1e-5)


def test_a_text_with_no_tokens_embeds_as_zeros_not_nan(wordllama: Any) -> None:
    """WordLlama divides by a zero norm there: one NaN vector makes every similarity NaN."""
    import numpy as np

    vectors = wordllama.embed_sync(["", "send the parcel"])
    assert not np.isnan(vectors).any()
    assert not vectors[0].any()
    assert abs(float(np.linalg.norm(vectors[1])) - 1.0) < 1e-5


async def test_wordllama_embeds_on_one_thread_of_its_own(tmp_path: Path) -> None:
    """Every thread that allocates keeps a malloc arena: the default pool's threads each held
    their own while a workspace embedded (~20 MB more resident at 250k chunks)."""
    import asyncio

    from devfactory.server.index.embedders import WordLlamaEmbedder

    embedder = WordLlamaEmbedder(tmp_path)
    threads: set[int] = set()

    def record(texts: list[str]) -> Any:
        threads.add(threading.get_ident())
        time.sleep(0.01)  # long enough for a pool to hand the next call to another thread
        return texts

    embedder.embed_sync = record  # type: ignore[method-assign]  # where it runs, not what
    await asyncio.gather(*(embedder.embed(["x"]) for _ in range(8)))
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_vector_cache_measures_a_large_index_through_sign_bits():
    """Past EXACT_ROWS the rows are ranked by their sign bits first and only PREFILTER_ROWS of
    them measured: the clear nearest rows are still found, with their exact distances,
    appended rows included."""
    import numpy as np

    from devfactory.server.index import vectors as vectors_module
    from devfactory.server.index.vectors import VectorCache

    rng = np.random.default_rng(7)
    rows = rng.standard_normal((vectors_module.EXACT_ROWS + 200, 64)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    cache = VectorCache()
    cache.load(list(range(len(rows) - 100)), bytearray(rows[:-100].tobytes()), 64)
    cache.add(list(range(len(rows) - 100, len(rows))), rows[-100:])
    query = rows[-1] + rows[5]  # near an appended row and a loaded one
    query /= np.linalg.norm(query)
    nearest = sorted(cache.nearest(query.tobytes(), 2))
    assert [chunk_id for chunk_id, _ in nearest] == [5, len(rows) - 1]
    exact = 1.0 - rows[[5, len(rows) - 1]] @ query
    np.testing.assert_allclose([d for _, d in nearest], exact, rtol=1e-5)
    assert len(cache._prefilter(query)) == vectors_module.PREFILTER_ROWS


@pytest.mark.parametrize("dimensions", [64, 40])  # whole 8-byte words of sign bits, or not
def test_the_sign_bit_prefilter_keeps_the_rows_that_differ_least(dimensions: int):
    """The prefilter's rows are exactly the PREFILTER_ROWS with the fewest differing sign bits,
    ties to the earlier row, as a plain sort over every row finds them."""
    import numpy as np

    from devfactory.server.index import vectors as vectors_module
    from devfactory.server.index.vectors import VectorCache

    rng = np.random.default_rng(3)
    rows = rng.standard_normal((vectors_module.EXACT_ROWS + 500, dimensions)).astype(np.float32)
    cache = VectorCache()
    cache.load(list(range(len(rows))), bytearray(rows.tobytes()), dimensions)
    for _ in range(2):  # the second query reuses the first one's buffers
        query = rng.standard_normal(dimensions).astype(np.float32)
        differing = ((rows > 0) != (query > 0)).sum(axis=1)
        expected = np.sort(np.argsort(differing, kind="stable")[: vectors_module.PREFILTER_ROWS])
        np.testing.assert_array_equal(cache._prefilter(query), expected)


def test_vector_cache_stays_exact_when_appends_carry_it_past_the_limit():
    """Rows appended since the last load may be replacements: an index re-indexed file by
    file must rank as a fresh one of the same size does, exactly."""
    import numpy as np

    from devfactory.server.index import vectors as vectors_module
    from devfactory.server.index.vectors import VectorCache

    rows = np.zeros((vectors_module.EXACT_ROWS + 10, 8), dtype=np.float32)
    rows[:, 0] = 1.0
    cache = VectorCache()
    cache.load([0, 1], bytearray(rows[:2].tobytes()), 8)
    cache.add(list(range(2, len(rows))), rows[2:])
    assert cache._prefilter is not None
    prefiltered: list[bool] = []
    cache._prefilter = lambda vector: prefiltered.append(True)  # type: ignore[method-assign]
    assert len(cache.nearest(rows[0].tobytes(), 3)) == 3
    assert prefiltered == []
