"""Keeping every path a tool touches inside the run's worktree."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class PathEscape(ValueError):
    """A tool asked for a path outside the worktree (or inside its .git)."""


def resolve_in_worktree(worktree: Path, rel: str) -> Path:
    """The absolute path of ``rel`` inside ``worktree``; raises PathEscape otherwise.

    Refuses absolute paths, ``..`` that climbs out, symlinks (anywhere on the way) that point
    out, and the ``.git`` entry.
    """
    if not rel or rel.strip() != rel or "\0" in rel:
        raise PathEscape(f"invalid path {rel!r}")
    posix = PurePosixPath(rel.replace(os.sep, "/"))
    if posix.is_absolute():
        raise PathEscape(f"{rel} is absolute; use a path relative to the project root")
    root = worktree.resolve()
    candidate = (root / posix).resolve()
    if candidate != root and root not in candidate.parents:
        raise PathEscape(f"{rel} points outside the project")
    relative = candidate.relative_to(root)
    if relative.parts and relative.parts[0] == ".git":
        raise PathEscape(f"{rel} is inside .git")
    return candidate


def relative_display(worktree: Path, path: Path) -> str:
    return path.relative_to(worktree.resolve()).as_posix()
