"""The tools an agent may call, their JSON Schemas, and their implementations.

Every path goes through the run worktree's ``SafeTree`` (the one resolver: no link out, no
``.git``, no ``.devfactory/``, no settings or policy file, no control or bidi characters); a
refusal is reported as an event and explained to the model, so it can correct the path.
Writes are proposed as changes right away (through ``on_file_changed``) so the user can
review while the agent works.
``ask_user`` and ``finish`` are control tools handled by the agent loop itself.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from devfactory.protocol.enums import (
    ChangeAction,
    EventType,
    SearchGroupBy,
    SearchMode,
    Severity,
)
from devfactory.protocol.events import ErrorPayload, FileTouched, RagSearchCompleted
from devfactory.protocol.index import SearchHit, SearchParams, SearchResult

from ..project.files import list_workspace_files
from ..safefs import FileTooLarge, PathRefused, SafeTree
from .context import hit_refs
from .providers.base import ToolSpec

MAX_READ_BYTES = 200_000
MAX_FILE_BYTES = 8 * 1024 * 1024
"""Larger files are not read into memory: the model is told to look at them with a command."""
MAX_LISTED = 500

T = TypeVar("T")

ChangeHook = Callable[[str, ChangeAction], Awaitable[int | None]]
"""Called after each write with (path, action); returns the id of the proposed change."""


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_PATH = {"type": "string", "description": "Path relative to the project root."}

SPECS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in [
        ToolSpec(
            name="list_files",
            description="List project files (git-tracked and untracked, not ignored).",
            parameters=_schema(
                {
                    "path": {"type": "string", "description": "Folder to list (default: all)."},
                    "pattern": {"type": "string", "description": "Glob, e.g. '*.py'."},
                },
                [],
            ),
        ),
        ToolSpec(
            name="read_file",
            description="Read a file, optionally only lines start_line..end_line (1-based).",
            parameters=_schema(
                {
                    "path": _PATH,
                    "start_line": {"type": "integer", "minimum": 1},
                    "end_line": {"type": "integer", "minimum": 1},
                },
                ["path"],
            ),
        ),
        ToolSpec(
            name="search_code",
            description=(
                "Search the codebase (hybrid lexical + semantic). group_by chunk (default): "
                "ranked code locations; group_by file: ranked files, each with its best "
                "locations (ask for files to find where a change goes)."
            ),
            parameters=_schema(
                {
                    "query": {"type": "string"},
                    "limit": {"type": "integer", "minimum": 1},
                    "group_by": {"type": "string", "enum": [g.value for g in SearchGroupBy]},
                },
                ["query"],
            ),
        ),
        ToolSpec(
            name="write_file",
            description="Create or overwrite a file with the given content.",
            parameters=_schema({"path": _PATH, "content": {"type": "string"}}, ["path", "content"]),
        ),
        ToolSpec(
            name="edit_file",
            description=(
                "Replace one exact occurrence of `search` with `replace` in a file. The search "
                "text must match exactly once; include surrounding lines to make it unique."
            ),
            parameters=_schema(
                {"path": _PATH, "search": {"type": "string"}, "replace": {"type": "string"}},
                ["path", "search", "replace"],
            ),
        ),
        ToolSpec(
            name="delete_file",
            description="Delete a file.",
            parameters=_schema({"path": _PATH}, ["path"]),
        ),
        ToolSpec(
            name="run_command",
            description=(
                "Run an allowed command (tests, linters, build tools) in the project and get its "
                "exit code and output. No shell unless the policy allows it."
            ),
            parameters=_schema(
                {"command": {"type": "string"}, "timeout_s": {"type": "number", "minimum": 1}},
                ["command"],
            ),
        ),
        ToolSpec(
            name="ask_user",
            description="Ask the user a question and wait for the answer.",
            parameters=_schema(
                {
                    "question": {"type": "string"},
                    "choices": {"type": "array", "items": {"type": "string"}},
                },
                ["question"],
            ),
        ),
        ToolSpec(
            name="finish",
            description="End the task with a summary of what was done.",
            parameters=_schema({"summary": {"type": "string"}}, ["summary"]),
        ),
    ]
}


def _location(hit: SearchHit) -> str:
    """A hit as the model reads it: where, which definition, then the snippet."""
    symbol = f" ({hit.symbol})" if hit.symbol else ""
    return f"{hit.path}:{hit.start_line}-{hit.end_line}{symbol}\n{hit.snippet}"


class ToolError(Exception):
    """A tool call failed in a way the model should read and correct."""


REFUSED = "refused: "
"""How a refused path's error starts (the refusal is reported on the timeline as it happens)."""


Emit = Callable[..., Awaitable[Any]]


class ToolBox:
    """Runs the file and search tools of one run."""

    def __init__(
        self,
        *,
        run_id: int,
        worktree: Path,
        emit: Emit,
        on_file_changed: ChangeHook,
        search: Callable[[SearchParams], Awaitable[Any]] | None,
        protected: frozenset[str] = frozenset(),
        guard: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.run_id = run_id
        self.worktree = worktree
        self.tree = SafeTree(worktree, protected)
        """``protected``: the files that configure DevFactory (``safefs.protected_files``)."""
        self.emit = emit
        self.on_file_changed = on_file_changed
        self.search = search
        self.guard = guard
        """Awaited before every write to the worktree: a team worker checks that it still holds
        the run's lease (it raises ``LeaseLost`` once another worker took the run over)."""
        self.files_changed: dict[str, ChangeAction] = {}

    async def resolve(self, rel: str) -> str:
        """The clean worktree-relative path of ``rel`` (links that stay inside followed)."""
        return await self._safely(lambda: self.tree.resolve(rel))

    async def _safely(self, operation: Callable[[], T]) -> T:
        """Run a ``SafeTree`` operation; a refusal is reported and explained to the model."""
        try:
            return operation()
        except PathRefused as exc:
            await self.emit(
                EventType.ERROR,
                "Path refused",
                ErrorPayload(message=str(exc)),
                severity=Severity.WARNING,
                message=str(exc),
            )
            raise ToolError(f"{REFUSED}{exc}") from None

    async def _read(self, path: str, rel: str) -> bytes:
        try:
            data = await self._safely(lambda: self.tree.read(rel, MAX_FILE_BYTES))
        except FileTooLarge as exc:
            raise ToolError(f"{exc}; look at it with a command (head, grep)") from None
        if data is None:
            raise ToolError(f"{path} does not exist")
        return data

    async def list_files(self, path: str = "", pattern: str | None = None) -> str:
        files = await asyncio.to_thread(list_workspace_files, self.worktree)
        prefix = path.strip("/")
        if prefix not in ("", "."):
            prefix = await self.resolve(prefix)
            files = [f for f in files if f == prefix or f.startswith(prefix + "/")]
        if pattern:
            files = [
                f
                for f in files
                if fnmatch.fnmatch(f, pattern) or fnmatch.fnmatch(Path(f).name, pattern)
            ]
        shown = files[:MAX_LISTED]
        more = f"\n... and {len(files) - len(shown)} more" if len(files) > len(shown) else ""
        return "\n".join(shown) + more if shown else "(no files)"

    async def read_file(
        self, path: str, start_line: int | None = None, end_line: int | None = None
    ) -> str:
        data = await self._read(path, await self.resolve(path))
        if b"\0" in data[:8192]:
            raise ToolError(f"{path} is a binary file")
        lines = data.decode("utf-8", "replace").splitlines()
        first = max(1, start_line or 1)
        last = min(len(lines), end_line or len(lines))
        selected = lines[first - 1 : last]
        await self.emit(
            EventType.FILE_READ,
            f"Read {path}",
            FileTouched(path=path, start_line=first, end_line=last),
        )
        text = "\n".join(f"{n:>5}  {line}" for n, line in enumerate(selected, start=first))
        if len(text) > MAX_READ_BYTES:
            text = text[:MAX_READ_BYTES] + "\n... (truncated; read a line range)"
        return text or "(empty file)"

    async def write_file(self, path: str, content: str) -> str:
        rel = await self.resolve(path)
        existed = await self._safely(lambda: self.tree.lstat(rel)) is not None
        data = content.encode()
        await self._guarded()
        await self._safely(lambda: self.tree.write(rel, data))
        action = ChangeAction.UPDATE if existed else ChangeAction.CREATE
        await self._changed(rel, action, len(data))
        return f"{'updated' if existed else 'created'} {path} ({len(content.splitlines())} lines)"

    async def edit_file(self, path: str, search: str, replace: str) -> str:
        if not search:
            raise ToolError("search must not be empty")
        rel = await self.resolve(path)
        if await self._safely(lambda: self.tree.lstat(rel)) is None:
            raise ToolError(f"{path} does not exist; use write_file to create it")
        try:
            text = (await self._read(path, rel)).decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"{path} is not UTF-8 text; it cannot be edited") from None
        count = text.count(search)
        if count == 0:
            raise ToolError(f"the search text was not found in {path}; read the file and retry")
        if count > 1:
            raise ToolError(
                f"the search text matches {count} times in {path}; include more context"
            )
        data = text.replace(search, replace, 1).encode()
        await self._guarded()
        await self._safely(lambda: self.tree.write(rel, data))
        await self._changed(rel, ChangeAction.UPDATE, len(data))
        return f"edited {path}"

    async def delete_file(self, path: str) -> str:
        rel = await self.resolve(path)
        await self._guarded()
        if not await self._safely(lambda: self.tree.delete(rel)):
            raise ToolError(f"{path} does not exist")
        await self._changed(rel, ChangeAction.DELETE, None)
        return f"deleted {path}"

    async def _guarded(self) -> None:
        if self.guard is not None:
            await self.guard()

    async def search_code(self, query: str, limit: int = 8, group_by: str = "chunk") -> str:
        if self.search is None:
            raise ToolError("code search is not available in this workspace (index disabled)")
        started = time.perf_counter()
        result: SearchResult = await self.search(
            SearchParams(
                query=query,
                limit=min(max(limit, 1), 50),
                mode=SearchMode.HYBRID,
                group_by=SearchGroupBy(group_by),
                chunks_per_file=2,
            )
        )
        hits = result.all_hits()
        await self.emit(
            EventType.RAG_SEARCH_COMPLETED,
            f"{len(hits)} results for {query!r}",
            RagSearchCompleted(
                query=query,
                hits=hit_refs(result),
                took_ms=(time.perf_counter() - started) * 1000,
            ),
        )
        if not hits:
            return "no results"
        if result.files is None:
            return "\n\n".join(_location(hit) for hit in hits)
        return "\n\n".join(
            f"# {file.path}\n" + "\n\n".join(_location(hit) for hit in file.hits)
            for file in result.files
        )

    async def _changed(self, rel: str, action: ChangeAction, size: int | None) -> None:
        if self.files_changed.get(rel) is ChangeAction.CREATE and action is ChangeAction.UPDATE:
            action = ChangeAction.CREATE  # still new compared with the base
        self.files_changed[rel] = action
        change_id = await self.on_file_changed(rel, action)
        event_type = {
            ChangeAction.CREATE: EventType.FILE_CREATED,
            ChangeAction.UPDATE: EventType.FILE_UPDATED,
            ChangeAction.DELETE: EventType.FILE_DELETED,
        }[action]
        await self.emit(
            event_type,
            f"{action.value.capitalize()}d {rel}",
            FileTouched(path=rel, bytes=size, change_id=change_id),
        )
