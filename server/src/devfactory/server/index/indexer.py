"""An indexing pass: find what changed on disk and bring the index up to date.

A file is re-read only when its size or mtime changed, and re-chunked only when its content
hash changed; deleted files are dropped with their chunks, text and vectors. Parsing runs in
worker processes for large passes (tree-sitter holds the GIL) and in a thread for small ones;
results are written in batches, one writer-thread hop per batch, while workers keep parsing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from devfactory.protocol.index import IndexRebuildResult
from devfactory.protocol.settings import IndexSettings
from devfactory.storage import Store
from devfactory.storage.ports import FileState, FileUpdate, IndexBatch

from ..project.files import IGNORE_FILE, list_workspace_files
from .discovery import classify, skip_by_name
from .worker import BatchSummary, FileJob, index_batch, init_process, process_batch, to_batch

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)

#: Editing one of these can change which files belong to the workspace: list them again.
IGNORE_FILES = frozenset({".gitignore", IGNORE_FILE})

#: Passes with at least this many files to parse use worker processes.
PROCESS_POOL_THRESHOLD = 200
MAX_WORKERS = 8
MAX_JOBS_PER_TASK = 256
"""Files a worker reads, chunks and writes in one transaction. Fewer, larger transactions
cost a little less (FTS5 flushes and merges its segments once per commit, and the workers
hand the write turn to each other less often): a cold pass of 4x Django 0.95x the wall time
of 64 a batch, 1x Django the same (docs/benchmarks.md)."""
TASKS_PER_WORKER = 4
"""At least this many batches per worker process, so a pass of a few hundred files still
spreads over every worker and none waits long on the last batch."""

ProgressCallback = Callable[[int, int], None]
"""``(files done, files to do)``."""


class Indexer:
    """Runs passes over one workspace; the caller serialises them."""

    def __init__(self, store: Store, project_id: int, root: Path, settings: IndexSettings) -> None:
        self.store = store
        self.project_id = project_id
        self.root = root
        self.settings = settings
        self._members: frozenset[str] | None = None
        """The workspace's files as of the last listing: saves of known files skip git."""
        self._outsiders: set[str] = set()
        """Paths asked about since the last listing that were not in it (see indexable)."""

    async def sync(
        self, *, full: bool = False, progress: ProgressCallback | None = None
    ) -> IndexRebuildResult:
        """Bring the whole index up to date with the workspace."""
        started = time.perf_counter()
        if full:
            await self.store.index.clear(self.project_id)
        files = await self._list()
        states = await self.store.index.file_states(self.project_id)
        # Many new files: the worker processes start (~0.5 s each, in parallel) while the
        # files are planned, not after.
        with self._workers(len(files) - len(states.keys() & set(files))) as pool:
            jobs, named_skips, unchanged = await asyncio.to_thread(self._plan, files, states)
            removed = sorted(set(states) - set(files))
            await self.store.index.apply(self.project_id, IndexBatch((), removed=removed))
            return await self._run(
                jobs,
                named_skips,
                started,
                seen=len(files),
                unchanged=unchanged,
                removed=len(removed),
                progress=progress,
                pool=pool,
            )

    async def update_paths(self, paths: Iterable[str]) -> IndexRebuildResult:
        """Re-index just these paths (saved or changed on disk); drop the ones that are gone
        or no longer belong to the workspace."""
        started = time.perf_counter()
        wanted = sorted(set(paths))
        members = self._members
        if (
            members is None
            or any(PurePosixPath(path).name in IGNORE_FILES for path in wanted)
            or any(path not in members and (self.root / path).exists() for path in wanted)
        ):
            members = frozenset(await self._list())  # a new file, or new ignore rules
        states = await self.store.index.file_states(self.project_id, wanted)
        present = [path for path in wanted if path in members]
        jobs, named_skips, unchanged = await asyncio.to_thread(self._plan, present, states)
        gone = [path for path in wanted if path not in members and path in states]
        await self.store.index.apply(self.project_id, IndexBatch((), removed=gone))
        return await self._run(
            jobs, named_skips, started, seen=len(present), unchanged=unchanged, removed=len(gone)
        )

    async def indexable(self, paths: Collection[str]) -> frozenset[str]:
        """Those of ``paths`` a pass would read: files of the workspace (not ignored, not
        under ``.git``...) that no rule skips by name. A path the last listing lacks is
        listed for once (it may be new); asked again, it stays out until the next listing."""
        members = self._members
        if members is None or any(p not in members and p not in self._outsiders for p in paths):
            members = frozenset(await self._list())
        self._outsiders.update(path for path in paths if path not in members)
        return frozenset(p for p in paths if p in members and skip_by_name(p) is None)

    async def _list(self) -> list[str]:
        files = await asyncio.to_thread(list_workspace_files, self.root, self.settings.exclude)
        self._members = frozenset(files)
        self._outsiders = set()
        return files

    def _plan(
        self, files: Sequence[str], states: dict[str, FileState]
    ) -> tuple[list[FileJob], list[FileUpdate], int]:
        """(files to read, files skipped by name whose record must change, unchanged count)."""
        jobs: list[FileJob] = []
        skips: list[FileUpdate] = []
        unchanged = 0
        for path in files:
            state = states.get(path)
            language, source_type = classify(path)
            reason = skip_by_name(path)
            if reason is not None:
                if state is None or state.skip_reason != reason:
                    skips.append(
                        FileUpdate(path, language, source_type.value, 0, 0, "", reason, [])
                    )
                else:
                    unchanged += 1
                continue
            try:
                stat = os.lstat(self.root / path)  # a link's own times: it is never followed
            except OSError:
                stat = None
            if (
                state is not None
                and stat is not None
                and stat.st_size == state.size
                and stat.st_mtime_ns == state.mtime_ns
            ):
                unchanged += 1
                continue
            jobs.append(
                FileJob(
                    path=path,
                    root=str(self.root),
                    language=language,
                    source_type=source_type.value,
                    max_bytes=self.settings.max_file_bytes,
                    known_hash=None if state is None or state.skip_reason else state.content_hash,
                )
            )
        return jobs, skips, unchanged

    async def _run(
        self,
        jobs: list[FileJob],
        named_skips: list[FileUpdate],
        started: float,
        *,
        seen: int,
        unchanged: int,
        removed: int,
        progress: ProgressCallback | None = None,
        pool: ProcessPoolExecutor | None = None,
    ) -> IndexRebuildResult:
        chunks = await self.store.index.apply(self.project_id, IndexBatch(named_skips))
        totals = BatchSummary(
            files=0, unchanged=unchanged, removed=removed, skipped=len(named_skips), chunks=chunks
        )
        total = len(jobs)
        if progress is not None:
            progress(0, total)
        size = batch_size(total)
        batches = [jobs[i : i + size] for i in range(0, total, size)]
        if pool is not None or (total >= PROCESS_POOL_THRESHOLD and _worker_count() > 1):
            from concurrent.futures.process import BrokenProcessPool  # with multiprocessing

            start = totals
            try:
                async for summary in self._in_processes(batches, pool):
                    totals = _add(totals, summary)
                    if progress is not None:
                        progress(totals.files, total)
                batches = []
            except BrokenProcessPool:
                # Worker processes could not start (a host program without a __main__ guard,
                # a sandbox without fork): index in this process instead, slower but complete.
                log.warning("index worker processes failed; indexing in a thread instead")
                totals = start
        async for summary in self._in_thread(batches):
            totals = _add(totals, summary)
            if progress is not None:
                progress(totals.files, total)
        return IndexRebuildResult(
            files_seen=seen,
            files_indexed=totals.indexed,
            files_unchanged=totals.unchanged,
            files_removed=totals.removed,
            files_skipped=totals.skipped,
            chunks=totals.chunks,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    @contextlib.contextmanager
    def _workers(self, new_files: int) -> Iterator[ProcessPoolExecutor | None]:
        """Worker processes, started now, for a pass with ``new_files`` files to parse (None
        when that pass is small enough for a thread, or the machine has one core)."""
        if new_files < PROCESS_POOL_THRESHOLD or _worker_count() < 2:
            yield None
            return
        from concurrent.futures.process import BrokenProcessPool

        with self._pool() as pool:
            with contextlib.suppress(BrokenProcessPool):  # then the pass falls back to a thread
                for _ in range(_worker_count()):  # a submit spawns a process while none is idle
                    pool.submit(os.getpid)
            yield pool

    def _pool(self) -> ProcessPoolExecutor:
        import multiprocessing  # only big passes need it (start-up stays light)
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=_worker_count(),
            mp_context=context,
            initializer=init_process,
            initargs=(self.store.location, self.project_id, context.Lock(), os.getpid()),
        )

    async def _in_processes(
        self, batches: list[list[FileJob]], pool: ProcessPoolExecutor | None
    ) -> AsyncIterator[BatchSummary]:
        """Worker processes parse and write; the daemon only hears how many."""
        with contextlib.nullcontext(pool) if pool is not None else self._pool() as executor:
            loop = asyncio.get_running_loop()
            tasks = [loop.run_in_executor(executor, index_batch, batch) for batch in batches]
            for next_done in asyncio.as_completed(tasks):
                yield await next_done

    async def _in_thread(self, batches: list[list[FileJob]]) -> AsyncIterator[BatchSummary]:
        """Parse in a thread, write through the daemon's writer connection."""
        for jobs in batches:
            batch, summary = to_batch(await asyncio.to_thread(process_batch, jobs))
            yield summary._replace(chunks=await self.store.index.apply(self.project_id, batch))


def batch_size(files: int) -> int:
    """Files per batch for a pass of ``files``: large batches, but enough of them for every
    worker (a small pass, in a thread, gets the same size)."""
    spread = -(-files // (_worker_count() * TASKS_PER_WORKER))  # ceiling division
    return max(1, min(MAX_JOBS_PER_TASK, spread))


def _worker_count() -> int:
    return min(os.cpu_count() or 1, MAX_WORKERS)


def _add(a: BatchSummary, b: BatchSummary) -> BatchSummary:
    return BatchSummary(*(x + y for x, y in zip(a, b, strict=True)))
