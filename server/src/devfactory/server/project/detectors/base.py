"""What every framework detector shares: a read-only view of the workspace's files and the
helpers to find markers and routes in them."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from devfactory.protocol.project import FrameworkInfo, RouteInfo

from ...safefs import FileTooLarge, PathRefused, SafeTree

#: Files larger than this are not read by detectors (generated code, fixtures).
MAX_READ_BYTES = 300_000
#: Each list in a FrameworkInfo keeps at most this many entries (the map stays readable).
MAX_ITEMS = 200


@dataclass
class WorkspaceView:
    """The workspace as detectors see it: its file list, and cached reads."""

    root: Path
    files: list[str]
    _set: frozenset[str] = field(init=False)
    _cache: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._set = frozenset(self.files)

    def exists(self, path: str) -> bool:
        return path in self._set

    def glob(self, *patterns: str) -> list[str]:
        """Files matching any fnmatch pattern (``*`` crosses folders), in order."""
        return [f for f in self.files if any(fnmatch.fnmatchcase(f, p) for p in patterns)]

    def named(self, *names: str) -> list[str]:
        """Files whose base name is one of ``names``."""
        wanted = set(names)
        return [f for f in self.files if PurePosixPath(f).name in wanted]

    def read(self, path: str) -> str:
        """The file's text ('' when missing, unreadable or too large)."""
        if path not in self._cache:
            try:  # never through a link: a tracked link may point anywhere
                data = SafeTree(self.root).read(path, MAX_READ_BYTES)
            except (OSError, PathRefused, FileTooLarge):
                data = None
            self._cache[path] = "" if data is None else data.decode("utf-8", "replace")
        return self._cache[path]

    def json(self, path: str) -> dict[str, Any]:
        try:
            data = json.loads(self.read(path) or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def package_json_deps(self, path: str = "package.json") -> set[str]:
        data = self.json(path)
        deps: set[str] = set()
        for key in ("dependencies", "devDependencies", "peerDependencies"):
            section = data.get(key)
            if isinstance(section, dict):
                deps.update(section)
        return deps

    def python_requirements(self) -> str:
        """The text of the usual Python dependency files, lower-cased, for substring tests."""
        names = ("pyproject.toml", "setup.py", "setup.cfg", "Pipfile")
        texts = [self.read(f) for f in self.files if "/" not in f and f in names]
        texts += [self.read(f) for f in self.glob("requirements*.txt", "requirements/*.txt")]
        return "\n".join(texts).lower()


class Detector(Protocol):
    """Finds one framework; returns ``None`` when the workspace does not use it."""

    name: str

    def detect(self, view: WorkspaceView) -> FrameworkInfo | None: ...


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def routes_from(
    view: WorkspaceView,
    files: Iterable[str],
    pattern: re.Pattern[str],
    build: Any,
) -> list[RouteInfo]:
    """Routes found by ``pattern`` in ``files``; ``build(match, file, line)`` makes each one."""
    routes: list[RouteInfo] = []
    for path in files:
        text = view.read(path)
        for match in pattern.finditer(text):
            route = build(match, path, line_of(text, match.start()))
            if route is not None:
                routes.append(route)
            if len(routes) >= MAX_ITEMS:
                return routes
    return routes


def capped(items: Iterable[str]) -> list[str]:
    return sorted(set(items))[:MAX_ITEMS]
