"""Which files belong to the workspace.

In a git repository: ``git ls-files -co --exclude-standard`` (tracked plus untracked, honouring
.gitignore, .git/info/exclude and the global excludes). Elsewhere: a walk filtered by the
.gitignore files with ``pathspec``. Either way ``.devfactoryignore`` and the ``index.exclude``
setting are applied on top, and the state folder is never listed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pathspec

from ..paths import STATE_DIR_NAME

IGNORE_FILE = ".devfactoryignore"
_ALWAYS_SKIPPED_DIRS = frozenset({".git", STATE_DIR_NAME, ".hg", ".svn"})

BUILD_JUNK = (
    "__pycache__/",
    "*.py[cod]",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".tox/",
    ".nox/",
    ".venv/",
    ".eggs/",
    "*.egg-info/",
    ".coverage",
    ".coverage.*",
    "htmlcov/",
    "/build/",
    "/dist/",
    "node_modules/",
    ".next/",
    ".nuxt/",
    ".svelte-kit/",
    ".parcel-cache/",
    ".turbo/",
    "/target/",
    ".gradle/",
    ".DS_Store",
    "Thumbs.db",
)
"""What builds, test runners and package managers leave behind (gitignore syntax). A run's
commands create it in the worktree; nobody means it as a change, so it is not proposed even
when the project has no .gitignore. Like .gitignore it only hides new files."""
_BUILD_JUNK = pathspec.GitIgnoreSpec.from_lines(BUILD_JUNK)


def is_build_junk(path: str) -> bool:
    """Whether a new file at ``path`` (POSIX, workspace-relative) is build output."""
    return _BUILD_JUNK.match_file(path)


def _read_patterns(path: Path) -> list[str]:
    try:
        return path.read_text("utf-8", "replace").splitlines()
    except OSError:
        return []


def _git_files(root: Path) -> list[str] | None:
    try:
        completed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except FileNotFoundError:
        return None
    if completed.returncode != 0:
        return None
    seen: dict[str, None] = {}
    for raw in completed.stdout.split(b"\0"):
        if raw:
            seen[raw.decode("utf-8", "surrogateescape")] = None
    return list(seen)


def _walk_files(root: Path) -> list[str]:
    """All files under ``root``, honouring every .gitignore on the way down."""
    found: list[str] = []
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        ignore = Path(dirpath) / ".gitignore"
        if ignore.is_file():
            specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(_read_patterns(ignore))))

        def ignored(rel: str, is_dir: bool) -> bool:
            for base, spec in specs:
                if base and not rel.startswith(base + "/"):
                    continue
                local = rel[len(base) + 1 :] if base else rel
                if spec.match_file(local + ("/" if is_dir else "")):
                    return True
            return False

        keep = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if name not in _ALWAYS_SKIPPED_DIRS and not ignored(rel, True):
                keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not ignored(rel, False):
                found.append(rel)
    return found


def list_workspace_files(root: Path, extra_excludes: Iterable[str] = ()) -> list[str]:
    """Workspace-relative POSIX paths of the files that belong to the workspace, sorted."""
    files = _git_files(root)
    if files is None:
        files = _walk_files(root)
    patterns = [*_read_patterns(root / IGNORE_FILE), *extra_excludes]
    spec = pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
    result = []
    for rel in files:
        top = rel.split("/", 1)[0]
        if top in _ALWAYS_SKIPPED_DIRS:
            continue
        if spec is not None and spec.match_file(rel):
            continue
        result.append(rel)
    result.sort()
    return result
