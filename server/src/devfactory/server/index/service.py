"""``IndexService``: the workspace index's lifecycle, owned by the index feature.

It runs the first pass in the background after ``initialized`` (unless ``index.pass_on_start``
is off: a daemon started for one CLI command asks for its own), keeps the index fresh from
``didSave`` and the file watcher, embeds new chunks in the background, and answers searches.
Passes are serialised by one lock; the embedding loop runs beside them. Other features (agent
runs) reach it as ``services.index`` and call :meth:`search` and :meth:`write_project_map`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from devfactory.protocol.enums import EventType
from devfactory.protocol.events import DocsUpdated
from devfactory.protocol.index import (
    IndexRebuildResult,
    IndexStatus,
    SearchParams,
    SearchResult,
)
from devfactory.protocol.project import ProjectMap
from devfactory.protocol.settings import IndexSettings
from devfactory.storage import Store
from devfactory.storage.clock import now_iso
from devfactory.storage.ports import ChunkRow, FileUpdate

from ..safefs import FileTooLarge, PathRefused, SafeTree
from .embedders import Embedder, EmbedderUnavailable, WordLlamaEmbedder, make_embedder
from .indexer import Indexer
from .overlay import BufferOverlay, chunk_buffer
from .search import SearchEngine
from .vectors import VectorCache

if TYPE_CHECKING:
    from ..events.bus import EventBus
    from .watcher import WorkspaceWatcher

log = logging.getLogger(__name__)

EMBED_BATCH = 256
BUFFER_QUIET_S = 0.3
META_EMBEDDER = "embedder"
META_LAST_INDEXED = "last_indexed_at"


class Progress(Protocol):
    async def start(self, message: str) -> None: ...
    def report(self, done: int, total: int, noun: str = "files") -> None: ...
    def finish(self, message: str) -> None: ...


class NoProgress:
    """For callers without an editor to show progress to (tests, benchmarks)."""

    async def start(self, message: str) -> None:
        return None

    def report(self, done: int, total: int, noun: str = "files") -> None:
        return None

    def finish(self, message: str) -> None:
        return None


ProgressFactory = Callable[[str], Progress]
Spawn = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


class IndexService:
    """The index of one workspace: passes, freshness, embeddings, search."""

    def __init__(
        self,
        *,
        store: Store,
        project_id: int,
        root: Path,
        settings: IndexSettings,
        cache_dir: Path,
        spawn: Spawn,
        progress: ProgressFactory = lambda title: NoProgress(),
        events: Callable[[], EventBus | None] = lambda: None,
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.root = root
        self.settings = settings
        self._spawn = spawn
        self._progress = progress
        self._events = events
        self.indexer = Indexer(store, project_id, root, settings)
        self.overlay = BufferOverlay(store.index.open_buffers())
        self.embedder_error: str | None = None
        """Why the configured embedder is unusable (then search is lexical only)."""
        self.embedder: Embedder | None = None
        try:
            self.embedder = make_embedder(settings, cache_dir)
        except EmbedderUnavailable as exc:
            self.embedder_error = str(exc)
        self.vectors = VectorCache()
        self.engine = SearchEngine(
            store, project_id, root, self.overlay, self._search_embedder, self.vectors
        )
        self.state = "idle"
        """idle, indexing or embedding (what :meth:`status` reports)."""
        self._pass_lock = asyncio.Lock()
        self._embedding: asyncio.Task[None] | None = None
        self._embed_again = False
        """Set when chunks arrive while the embedding loop runs: it looks once more."""
        self._vectors_match = False
        """True once the stored vectors were made by ``self.embedder``."""
        self.watcher: WorkspaceWatcher | None = None
        self._pending_buffers: dict[str, str] = {}
        """Buffer texts not chunked yet (path -> text), see :meth:`buffer_changed`."""
        self._buffer_timer: asyncio.TimerHandle | None = None
        self._buffer_flush = asyncio.Lock()
        self._buffer_events = 0
        self._buffer_stamps: dict[str, int] = {}
        """Open path -> the number of the last change to its buffer (numbers never repeat): a
        chunking that finishes after a newer change, or the close, of its buffer is dropped."""

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """The first pass, then watching and embedding (run in the background)."""
        if not self.settings.enabled:
            return
        if self.embedder is not None:  # the stored vectors serve the searches during the pass
            stored = await self.store.index.get_meta(self.project_id, META_EMBEDDER)
            self._vectors_match = stored == self.embedder.name
        if self.settings.pass_on_start:
            await self.rebuild()
        if self.settings.watch and self.watcher is None:
            from .watcher import WorkspaceWatcher  # watchdog loads only once watching starts

            self.watcher = WorkspaceWatcher(self.root, self._on_disk_changes, self._spawn)
            self.watcher.start()
        if isinstance(self.embedder, WordLlamaEmbedder):
            # Load the model now, so the first semantic query does not pay for it (~1 s).
            await self.embedder.warm_up()

    async def stop(self) -> None:
        if self._buffer_timer is not None:
            self._buffer_timer.cancel()
        async with self._buffer_flush:  # a flush under way ends before the overlay closes
            self._pending_buffers.clear()
        if self.watcher is not None:
            await asyncio.to_thread(self.watcher.stop)
            self.watcher = None
        if self._embedding is not None:
            self._embedding.cancel()
            await asyncio.gather(self._embedding, return_exceptions=True)
        self.overlay.close()

    @property
    def embedder_label(self) -> str:
        if self.embedder is None:
            return f"none ({self.embedder_error})" if self.embedder_error else "none"
        return self.embedder.name

    # -- passes --------------------------------------------------------------------------------

    async def rebuild(self, *, full: bool = False, embed: bool = False) -> IndexRebuildResult:
        """A pass over the whole workspace (re-parsing everything when ``full``)."""
        async with self._pass_lock:
            self.state = "indexing"
            progress = self._progress("Indexing workspace")
            await progress.start("Looking for changes")
            try:
                result = await self.indexer.sync(full=full, progress=progress.report)
            finally:
                self.state = "idle"
                self.engine.invalidate(counts=True)
            progress.finish(
                f"{result.files_indexed} indexed, {result.files_unchanged} unchanged,"
                f" {result.files_removed} removed, {result.files_skipped} skipped"
            )
            await self.store.index.set_meta(self.project_id, META_LAST_INDEXED, now_iso())
        embedding = self.ensure_embedding()
        if embed and embedding is not None:
            await asyncio.shield(embedding)
        return result

    async def update(self, paths: Iterable[str]) -> IndexRebuildResult:
        """Re-index just these workspace-relative paths (saved, or changed on disk)."""
        async with self._pass_lock:
            result = await self.indexer.update_paths(paths)
            self.engine.invalidate()
        if result.chunks:
            self.ensure_embedding()
        return result

    async def _on_disk_changes(self, paths: set[str], rescan: bool) -> None:
        if rescan:
            await self.rebuild()
        elif paths:
            await self.update(paths)

    # -- embeddings ----------------------------------------------------------------------------

    def ensure_embedding(self) -> asyncio.Task[None] | None:
        """Start embedding new chunks in the background (once); returns the running task."""
        if self.embedder is None:
            return None
        if self._embedding is None or self._embedding.done():
            self._embedding = self._spawn(self._embed_pending())
        else:
            self._embed_again = True
        return self._embedding

    async def _embed_pending(self) -> None:
        assert self.embedder is not None
        embedder = self.embedder
        stored = await self.store.index.get_meta(self.project_id, META_EMBEDDER)
        self._vectors_match = stored == embedder.name
        counts = await self.store.index.counts(self.project_id)
        total = counts.chunks - (counts.embedded_chunks if self._vectors_match else 0)
        if total == 0:
            self._vectors_match = True
            return
        progress = self._progress("Embedding chunks")
        await progress.start(f"{total} chunks with {embedder.name}")
        done = 0
        self.state = "embedding"
        try:
            if not self._vectors_match:
                # Learn the new model's dimension, then drop the old vectors for good.
                probe = await embedder.embed(["dimension probe"])
                await self._switch_vectors(embedder, int(probe.shape[1]))
            while True:
                batch = await self.store.index.chunks_to_embed(self.project_id, EMBED_BATCH)
                if not batch:
                    if not self._embed_again:
                        break
                    self._embed_again = False
                    continue
                vectors = await embedder.embed([text for _, text in batch])
                ids = [chunk_id for chunk_id, _ in batch]
                await self.store.index.store_vectors(
                    [(chunk_id, row.tobytes()) for chunk_id, row in zip(ids, vectors, strict=True)]
                )
                self.vectors.add(ids, vectors)
                done += len(batch)
                progress.report(done, max(total, done), "chunks")
        except Exception as exc:
            # A model server that is down or refuses us must not take the daemon with it;
            # search goes on with what is embedded (and lexically). The next pass retries.
            self.embedder_error = f"{type(exc).__name__}: {exc}"
            log.warning("embedding stopped: %s", self.embedder_error, exc_info=True)
        finally:
            if self.state == "embedding":
                self.state = "idle"
            progress.finish(f"{done} chunks embedded")

    async def _switch_vectors(self, embedder: Embedder, dimensions: int) -> None:
        """The stored vectors come from another embedder: drop them all, re-embed."""
        log.info("embedder is now %s (%d-d): re-embedding every chunk", embedder.name, dimensions)
        await self.store.index.reset_vectors(self.project_id, dimensions)
        self.vectors.clear()
        await self.store.index.set_meta(self.project_id, META_EMBEDDER, embedder.name)
        self._vectors_match = True

    def _search_embedder(self) -> Embedder | str:
        """The embedder searches use, or why there is none."""
        if self.embedder is None:
            if self.embedder_error:
                return f"semantic search is off: {self.embedder_error}"
            return (
                "semantic search needs an embedder, and index.embedder is none: set it to "
                "wordllama (offline) or openai, or search with mode lexical"
            )
        if not self._vectors_match:
            return (
                f"semantic search waits for the chunks to be embedded with {self.embedder.name} "
                "(devfactory/index/status shows how far it is): search with mode lexical or "
                "hybrid meanwhile"
            )
        return self.embedder

    # -- queries -------------------------------------------------------------------------------

    async def search(self, params: SearchParams) -> SearchResult:
        """Search the index (and unsaved buffers). Raises InvalidParams for bad params."""
        await self._flush_buffers()
        return await self.engine.search(params)

    async def symbols(self, query: str, limit: int = 100) -> list[ChunkRow]:
        return await self.store.index.symbols(self.project_id, query, limit)

    async def status(self) -> IndexStatus:
        counts = await self.store.index.counts(self.project_id)
        return IndexStatus(
            state=self.state,
            files=counts.files,
            chunks=counts.chunks,
            embedded_chunks=counts.embedded_chunks if self._vectors_match else 0,
            skipped_files=counts.skipped_files,
            embedder=self.embedder_label,
            last_indexed_at=await self.store.index.get_meta(self.project_id, META_LAST_INDEXED),
            watching=self.watcher is not None and self.watcher.running,
        )

    # -- unsaved buffers -----------------------------------------------------------------------

    def buffer_changed(self, path: str, text: str) -> None:
        """An editor buffer's text (didOpen/didChange); searchable until saved or closed.

        Typing sends a change per keystroke: the text is kept and chunked once the buffer has
        been quiet for a moment, or right away when a search comes first.
        """
        self._pending_buffers[path] = text
        self._buffer_events += 1
        self._buffer_stamps[path] = self._buffer_events
        if self._buffer_timer is not None:
            self._buffer_timer.cancel()
        self._buffer_timer = asyncio.get_running_loop().call_later(
            BUFFER_QUIET_S, lambda: self._spawn(self._flush_buffers())
        )

    def buffer_closed(self, path: str) -> None:
        self._pending_buffers.pop(path, None)
        self._buffer_stamps.pop(path, None)
        self.overlay.drop(path)

    async def _flush_buffers(self) -> None:
        """Chunk the buffers changed since the last flush, off the event loop, into the
        overlay; a buffer equal to its file on disk, or of a file no pass would index, is
        dropped from it."""
        async with self._buffer_flush:  # a search waits for the flush under way
            if self._buffer_timer is not None:
                self._buffer_timer.cancel()
                self._buffer_timer = None
            pending, self._pending_buffers = self._pending_buffers, {}
            if not pending:
                return
            stamps = {path: self._buffer_stamps[path] for path in pending}
            indexable = await self.indexer.indexable(pending)
            updates = await asyncio.to_thread(
                lambda: {path: self._buffer_update(path, pending[path]) for path in indexable}
            )
            for path in pending:
                if self._buffer_stamps.get(path) != stamps[path]:
                    continue  # changed again or closed meanwhile: that event decides
                update = updates.get(path)
                if update is None:
                    self.overlay.drop(path)
                else:
                    self.overlay.put(update)

    def _buffer_update(self, path: str, text: str) -> FileUpdate | None:
        """``text`` chunked for the overlay; None when the file on disk holds the same."""
        limit = self.settings.max_file_bytes
        try:
            on_disk = SafeTree(self.root).read(path, limit)
        except (PathRefused, FileTooLarge, OSError):
            on_disk = None
        if on_disk is not None and on_disk == text.encode("utf-8", "surrogatepass"):
            return None
        return chunk_buffer(path, text, limit)

    # -- project map ---------------------------------------------------------------------------

    async def project_map(self) -> ProjectMap:
        """Detect frameworks and render PROJECT_MAP.md (without writing it)."""
        # Loaded on first use: the detectors and the ranking cost start-up time otherwise.
        from ..project.detectors import detect_frameworks
        from ..project.files import list_workspace_files
        from ..project.languages import language_stats
        from ..project.project_map import MAP_FILE, render_project_map
        from ..project.symbol_rank import rank_symbols

        async with self._pass_lock:  # rank over a finished pass, not a half-indexed workspace
            chunks = await self.store.index.all_chunks(self.project_id)
        listed = await asyncio.to_thread(list_workspace_files, self.root, self.settings.exclude)
        files = [path for path in listed if path != MAP_FILE]
        languages = await asyncio.to_thread(language_stats, self.root, files)
        frameworks = await asyncio.to_thread(detect_frameworks, self.root, files)
        ranked = await asyncio.to_thread(rank_symbols, chunks)
        markdown = render_project_map(self.root.name, languages, frameworks, ranked)
        await self.store.projects.set_detection(
            self.project_id, languages, [f.name for f in frameworks]
        )
        return ProjectMap(
            path=str(self.root / MAP_FILE),
            markdown=markdown,
            frameworks=frameworks,
            languages=languages,
        )

    async def write_project_map(
        self, run_id: int | None = None, target: Path | None = None
    ) -> ProjectMap:
        """Regenerate PROJECT_MAP.md in ``target`` (default: the workspace root), record it,
        and emit ``docs_updated`` when a run asked for it."""
        from ..project.project_map import MAP_FILE, write_atomically

        result = await self.project_map()
        folder = target or self.root
        path = folder / MAP_FILE
        changed = await asyncio.to_thread(write_atomically, path, result.markdown)
        summary = "regenerated" if changed else "unchanged"
        await self.store.documentation.record_update(
            project_id=self.project_id,
            run_id=run_id,
            path=MAP_FILE,
            kind="project_map",
            summary=summary,
        )
        events = self._events()
        if run_id is not None and events is not None:
            await events.emit(
                run_id,
                EventType.DOCS_UPDATED,
                f"{MAP_FILE} {summary}",
                DocsUpdated(path=MAP_FILE, kind="project_map"),
            )
        return ProjectMap(
            path=str(path),
            markdown=result.markdown,
            frameworks=result.frameworks,
            languages=result.languages,
        )
