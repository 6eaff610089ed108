"""Reading, hashing and chunking files: the unit of work of an indexing pass.

Large passes run :func:`index_batch` in worker processes (tree-sitter holds the GIL while it
parses), each writing its batches through an index writer of its own (``open_index_writer``),
so neither the chunks nor the parsing load ever reach the daemon's process. Small passes run
:func:`process_batch` in a thread and write through the daemon's writer.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from stat import S_ISREG
from typing import Any, NamedTuple

from devfactory.storage import open_index_writer
from devfactory.storage.ports import FileUpdate, IndexBatch, IndexWriter

from ..safefs import FileTooLarge, PathRefused, SafeTree
from .chunker import chunk_file
from .discovery import skip_by_content


class FileJob(NamedTuple):
    path: str
    """Workspace-relative POSIX path."""
    root: str
    """The workspace root: the file is read through ``SafeTree`` (never through a link)."""
    language: str | None
    source_type: str
    max_bytes: int
    known_hash: str | None
    """The hash the index holds for this path; equal content is not re-chunked."""


class FileOutcome(NamedTuple):
    """``update`` to write, or ``None`` with ``state`` ``unchanged`` / ``gone``."""

    path: str
    state: str
    """indexed, skipped, unchanged or gone."""
    size: int
    mtime_ns: int
    update: FileUpdate | None


def process_file(job: FileJob) -> FileOutcome:
    """Read, classify and chunk one file; never raises for a bad file (it is skipped).

    A link (the file or a folder on the way) is skipped, never read: a tracked link to
    ``~/.ssh/id_rsa`` must not reach search results. A link inside the workspace loses
    nothing, its target is indexed under its own path.
    """
    tree = SafeTree(Path(job.root))
    try:
        stat = tree.lstat(job.path)
    except PathRefused:  # a name the path rules refuse, or a link on the way
        return _skipped(job, 0, 0, "", "refused")
    except OSError:
        return _skipped(job, 0, 0, "", "unreadable")
    if stat is None:
        return FileOutcome(job.path, "gone", 0, 0, None)
    if not S_ISREG(stat.st_mode):
        return _skipped(job, stat.st_size, stat.st_mtime_ns, "", "not_a_file")
    try:
        data = tree.read(job.path, job.max_bytes)
    except FileTooLarge as exc:
        return _skipped(job, exc.size, stat.st_mtime_ns, "", "too_large")
    except PathRefused:  # a link swapped in since the lstat
        return _skipped(job, 0, 0, "", "refused")
    except OSError:
        return _skipped(job, 0, 0, "", "unreadable")
    if data is None:
        return FileOutcome(job.path, "gone", 0, 0, None)
    digest = hashlib.sha256(data).hexdigest()
    if digest == job.known_hash:
        return FileOutcome(job.path, "unchanged", stat.st_size, stat.st_mtime_ns, None)
    reason = skip_by_content(data)
    if reason is not None:
        return _skipped(job, stat.st_size, stat.st_mtime_ns, digest, reason)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _skipped(job, stat.st_size, stat.st_mtime_ns, digest, "undecodable")
    chunks = chunk_file(job.path, job.language, text)
    update = FileUpdate(
        path=job.path,
        language=job.language,
        source_type=job.source_type,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        content_hash=digest,
        skip_reason=None,
        chunks=chunks,
    )
    return FileOutcome(job.path, "indexed", stat.st_size, stat.st_mtime_ns, update)


def process_batch(jobs: list[FileJob]) -> list[FileOutcome]:
    """Several files per round trip to a worker process (fewer pickles and wake-ups)."""
    return [process_file(job) for job in jobs]


def _skipped(job: FileJob, size: int, mtime_ns: int, digest: str, reason: str) -> FileOutcome:
    update = FileUpdate(
        path=job.path,
        language=job.language,
        source_type=job.source_type,
        size=size,
        mtime_ns=mtime_ns,
        content_hash=digest,
        skip_reason=reason,
        chunks=[],
    )
    return FileOutcome(job.path, "skipped", size, mtime_ns, update)


class BatchSummary(NamedTuple):
    """What one batch did, for the pass's totals."""

    files: int
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    chunks: int = 0


def to_batch(outcomes: Sequence[FileOutcome]) -> tuple[IndexBatch, BatchSummary]:
    """The writes a batch of outcomes needs, and its tally (before the chunk count)."""
    updates = [o.update for o in outcomes if o.update is not None]
    touched = [(o.path, o.size, o.mtime_ns) for o in outcomes if o.state == "unchanged"]
    removed = [o.path for o in outcomes if o.state == "gone"]
    summary = BatchSummary(
        files=len(outcomes),
        indexed=sum(o.state == "indexed" for o in outcomes),
        unchanged=len(touched),
        removed=len(removed),
        skipped=sum(o.state == "skipped" for o in outcomes),
    )
    return IndexBatch(updates, touched, removed), summary


PR_SET_PDEATHSIG = 1
PARENT_POLL_S = 1.0


def die_with(parent: int) -> None:
    """End this process as soon as ``parent`` (the daemon) dies, even under kill -9, so no
    worker outlives it: the kernel's parent-death signal on Linux, a watching thread elsewhere.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
            if os.getppid() != parent:  # it died before the signal was armed
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


_writer: IndexWriter | None = None
_write_turn: AbstractContextManager[Any] = contextlib.nullcontext()


def init_process(
    location: str, project_id: int, write_turn: Any = None, daemon_pid: int | None = None
) -> None:
    """Worker-process initializer: die with the daemon, open an index writer of its own on
    the store at ``location`` (``Store.location``).

    ``write_turn`` is a lock the workers share: waiting on it wakes a worker the moment the
    other one commits, where SQLite's busy handler would poll with sleeps of up to 100 ms.
    """
    global _writer, _write_turn
    if daemon_pid is not None:
        die_with(daemon_pid)
    _writer = open_index_writer(location, project_id)
    if write_turn is not None:
        _write_turn = write_turn


def index_batch(jobs: list[FileJob]) -> BatchSummary:
    """In a worker process: process the files and write the result in one transaction."""
    assert _writer is not None, "init_process() was not called"
    batch, summary = to_batch(process_batch(jobs))
    with _write_turn:
        chunks = _writer.apply(batch)
    return summary._replace(chunks=chunks)
