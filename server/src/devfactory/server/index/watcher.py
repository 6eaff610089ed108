"""Watching the workspace for changes made outside the editor (git checkout, formatters,
code generators) and handing the changed paths, debounced, to the index.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..paths import STATE_DIR_NAME

# watchdog logs an ERROR when its reader wakes up after the observer was stopped, a harmless
# race on every shutdown; the message would reach the editor's log as if something broke.
logging.getLogger("watchdog.observers.inotify").setLevel(logging.CRITICAL)

DEBOUNCE_S = 0.25
_IGNORED_TOP = frozenset({".git", STATE_DIR_NAME, ".hg", ".svn"})

Flush = Callable[[set[str], bool], Coroutine[Any, Any, None]]
"""``flush(paths, rescan)``: re-index these workspace-relative paths (``rescan``: a directory
moved or vanished, so look at everything)."""
Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: WorkspaceWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type in ("modified", "closed"):
            return  # a file inside changed: that file has its own event
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        self.watcher.from_thread([os.fsdecode(p) for p in paths if p], event.is_directory)


class WorkspaceWatcher:
    """A watchdog observer on the workspace root feeding a debounced flush on the loop."""

    def __init__(
        self, root: Path, flush: Flush, spawn: Spawn, debounce_s: float = DEBOUNCE_S
    ) -> None:
        self.root = root
        self._flush = flush
        self._spawn = spawn
        self._debounce_s = debounce_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._pending: set[str] = set()
        self._rescan = False
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._observer is not None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        observer = Observer()
        observer.schedule(_Handler(self), str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None

    def from_thread(self, paths: list[str], is_directory: bool) -> None:
        """Called on watchdog's thread: keep what belongs to the workspace, wake the loop."""
        relative = []
        for path in paths:
            try:
                rel = Path(path).relative_to(self.root).as_posix()
            except ValueError:
                continue
            if rel == "." or rel.split("/", 1)[0] in _IGNORED_TOP:
                continue
            relative.append(rel)
        if relative and self._loop is not None:
            self._loop.call_soon_threadsafe(self._add, relative, is_directory)

    def _add(self, paths: list[str], is_directory: bool) -> None:
        if is_directory:
            self._rescan = True
        else:
            self._pending.update(paths)
        if self._timer is not None:
            self._timer.cancel()
        assert self._loop is not None
        self._timer = self._loop.call_later(self._debounce_s, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._flushing is not None and not self._flushing.done():
            # A flush is still running: try again once it is done.
            assert self._loop is not None
            self._timer = self._loop.call_later(self._debounce_s, self._fire)
            return
        paths, rescan = self._pending, self._rescan
        self._pending, self._rescan = set(), False
        self._flushing = self._spawn(self._flush(paths, rescan))
