"""Embedders: text -> vectors for semantic search, behind one small interface.

- ``wordllama`` (default): the 256-d WordLlama weights shipped inside the ``wordllama`` wheel.
  Its 0.4 loader looks for the tokenizer under the wrong folder name and would then try to
  download it; we hand it a cache folder prepared from the bundled tokenizer files and
  ``disable_download=True``, so it never touches the network.
- ``openai``: any OpenAI-compatible ``/embeddings`` endpoint (OpenAI, Ollama, vLLM...), through
  the ``openai`` package (imported only when used: it costs ~280 ms).
- ``none``: no vectors; semantic search is unavailable and hybrid falls back to lexical.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from devfactory.protocol.settings import IndexSettings

from .wordpieces import WordPieces

if TYPE_CHECKING:
    import numpy as np

WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256
#: Characters of a chunk worth embedding: its symbol, signature and docstring come first, and
#: WordLlama averages token vectors, so more text only blurs it (and costs memory).
MAX_EMBED_CHARS = 1_500
DEFAULT_OPENAI_MODEL = "text-embedding-3-small"


class EmbedderUnavailable(RuntimeError):
    """The configured embedder cannot be used; the message says why and what to do."""


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors: an array of shape (len(texts), dims)."""

    name: str
    """Identity of the model, stored with the vectors: changing it re-embeds."""
    dimensions: int
    """0 until known (an OpenAI-compatible endpoint tells with its first answer)."""

    async def embed(self, texts: list[str]) -> np.ndarray: ...


def copy_atomically(source: Path, target: Path) -> None:
    """Copy under a private name, then rename: a daemon and its index worker load the same
    cache at once, and a reader must never see a half-copied tokenizer."""
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    shutil.copyfile(source, partial)
    os.replace(partial, target)


class WordLlamaEmbedder:
    """The bundled offline default. Loading takes ~1 s, so it happens on first use."""

    dimensions = WORDLLAMA_DIM

    def __init__(self, cache_dir: Path) -> None:
        self.name = f"wordllama:{WORDLLAMA_CONFIG}:{WORDLLAMA_DIM}"
        self._cache_dir = cache_dir
        self._model: Any = None
        self._pieces: WordPieces | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wordllama")
        self._loading = threading.Lock()
        """The daemon warms the model up while the first embedding or query may ask for it:
        without the lock each loaded its own copy (twice the CPU and memory, for nothing)."""

    def load(self) -> Any:
        """Load the model from the wheel's own files; raises if anything would be fetched."""
        with self._loading:
            return self._load()

    async def warm_up(self) -> None:
        """Load the model on the thread that embeds (see :meth:`embed`), ahead of its use."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self.load)

    def _load(self) -> Any:
        if self._model is None:
            import wordllama
            from wordllama import WordLlama

            bundled = Path(wordllama.__file__).parent / "tokenizers"
            target = self._cache_dir / "tokenizers"
            target.mkdir(parents=True, exist_ok=True)
            for source in bundled.glob("*.json"):
                copy = target / source.name
                if not copy.exists() or copy.stat().st_size != source.stat().st_size:
                    copy_atomically(source, copy)
            try:
                self._model = WordLlama.load(
                    config=WORDLLAMA_CONFIG,
                    dim=WORDLLAMA_DIM,
                    cache_dir=self._cache_dir,
                    disable_download=True,
                )
                self._model.tokenizer.no_padding()  # embed_sync pools texts of any length
                if WordPieces.fits(self._model.tokenizer):
                    self._pieces = WordPieces(self._model.tokenizer)
            except FileNotFoundError as exc:
                raise EmbedderUnavailable(
                    f"the WordLlama files are missing from the wordllama package ({exc}); "
                    "reinstall it (pip install --force-reinstall wordllama) or set "
                    'index.embedder = "none"'
                ) from None
        return self._model

    def embed_sync(self, texts: list[str]) -> np.ndarray:
        """Mean of each text's token vectors, unit length (zero for a text with no tokens).

        What ``WordLlama.embed`` computes, for a fraction of the work: it pads 16 texts to
        the longest (a chunk's token count varies tenfold) and multiplies the padded
        (texts x tokens x 256) array by the mask; here each text's own tokens are summed, and
        tokenized word by word (:mod:`.wordpieces`) when the tokenizer allows it.
        """
        import numpy as np

        model = self.load()
        table = model.embedding
        clipped = [text[:MAX_EMBED_CHARS] for text in texts]
        token_ids: list[Sequence[int]]
        if self._pieces is not None:
            token_ids = [self._pieces.ids(text) for text in clipped]
        else:
            encodings = model.tokenizer.encode_batch(clipped, add_special_tokens=False)
            token_ids = [encoding.ids for encoding in encodings]
        vectors = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
        last = table.shape[0] - 1
        for row, ids in enumerate(token_ids):
            if len(ids):
                rows = np.clip(np.asarray(ids, dtype=np.intp), 0, last)
                vectors[row] = table[rows].sum(axis=0) / len(ids)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.where(norms == 0, 1.0, norms)
        return vectors

    async def embed(self, texts: list[str]) -> np.ndarray:
        # Always the same thread: each thread that allocates gets a malloc arena of its own,
        # and the default pool's handful kept ~20 MB more resident while a workspace embeds.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self.embed_sync, texts)


class OpenAIEmbedder:
    """An OpenAI-compatible embeddings endpoint; the dimension is learnt from the first reply."""

    def __init__(self, model: str, base_url: str | None, api_key: str | None) -> None:
        self.name = f"openai:{base_url or 'default'}:{model}"
        self.model = model
        self.dimensions = 0
        self._base_url = base_url
        self._api_key = api_key
        self._client: Any = None

    async def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(
                base_url=self._base_url, api_key=self._api_key or "not-needed", max_retries=2
            )
        response = await self._client.embeddings.create(
            model=self.model, input=[text[:MAX_EMBED_CHARS] for text in texts]
        )
        ordered = sorted(response.data, key=lambda item: item.index)
        vectors = np.asarray([item.embedding for item in ordered], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.where(norms == 0, 1.0, norms)
        self.dimensions = int(vectors.shape[1])
        return vectors


def make_embedder(settings: IndexSettings, cache_dir: Path) -> Embedder | None:
    """The embedder the settings ask for (``None`` for ``none``)."""
    if settings.embedder == "none":
        return None
    if settings.embedder == "openai":
        api_key = os.environ.get("DEVFACTORY_EMBEDDING_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if api_key is None and settings.embedding_base_url is None:
            raise EmbedderUnavailable(
                "index.embedder is openai but OPENAI_API_KEY is not set; set it, point "
                "index.embeddingBaseUrl at a local server (Ollama), or use wordllama"
            )
        return OpenAIEmbedder(
            settings.embedding_model or DEFAULT_OPENAI_MODEL, settings.embedding_base_url, api_key
        )
    return WordLlamaEmbedder(cache_dir)
