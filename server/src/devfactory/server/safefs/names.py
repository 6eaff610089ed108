"""The path rules, judged on a path's text alone: which relative paths a run may name.

A path is refused when it climbs out (``..``, absolute), names git's own files (a ``.git``
component anywhere, as any filesystem may spell it: ``.GIT``, ``.git.``, ``GIT~1``), lies in
DevFactory's state folder, is one of the files that configure DevFactory (``devfactory.toml``
and the command-policy file: a run must not widen its own sandbox), or carries characters that
make a name lie about itself (control and bidi characters, a newline, a backslash).
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from devfactory.protocol.settings import Settings

from ..config import CONFIG_FILE
from ..paths import STATE_DIR_NAME


class PathRefused(ValueError):
    """A path a run may not use; the message says why and what to use instead."""


_GIT_NAMES = frozenset({".git", "git~1"})
"""``.git`` folded: case-insensitive filesystems ignore case, Windows drops trailing dots and
spaces, and ``GIT~1`` is its 8.3 short name."""

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control, format (bidi overrides, zero-width joiners), lone surrogates (bytes that are not
UTF-8) and line/paragraph separators."""


def fold(component: str) -> str:
    """A path component as a case-insensitive, dot-trimming filesystem compares it."""
    return component.rstrip(". ").casefold()


def shown(path: str) -> str:
    """``path`` with invisible characters escaped: safe to put in a message or an event."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in path)


def _bad_character(path: str) -> str | None:
    if path.isascii() and path.isprintable() and "\\" not in path:
        return None  # no printable ASCII character is in a refused category: skip the loop
    for char in path:
        if char == "\\":
            return "a backslash (use / between folders)"
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"the invisible or control character U+{ord(char):04X}"
    return None


def _key(parts: list[str]) -> str:
    return "/".join(fold(part) for part in parts)


def check_path(rel: object, protected: frozenset[str] = frozenset()) -> str:
    """The clean form of ``rel`` (``a/b``: no ``.``, no empty parts), or PathRefused.

    ``protected`` holds further files a run may not touch, as :func:`protected_files` folds
    them.
    """
    if not isinstance(rel, str):
        raise PathRefused(f"a path must be a string, not {type(rel).__name__}")
    if not rel.strip():
        raise PathRefused("the path is empty; name a file relative to the project root")
    bad = _bad_character(rel)
    if bad is not None:
        raise PathRefused(
            f"'{shown(rel)}' contains {bad}; use a plain name relative to the project root"
        )
    if rel.strip() != rel:
        raise PathRefused(f"{rel!r} starts or ends with whitespace; remove it")
    if rel.startswith("/"):
        raise PathRefused(f"{rel} is absolute; use a path relative to the project root")
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    if not parts:
        raise PathRefused(f"{rel} names the project root, not a file")
    if ".." in parts:
        raise PathRefused(
            f"{rel} points outside the project ('..' is not allowed; name files from the root)"
        )
    if any(fold(part) in _GIT_NAMES for part in parts):
        raise PathRefused(f"{rel} is inside .git: git's own files are never changed by a run")
    if fold(parts[0]) == STATE_DIR_NAME:
        raise PathRefused(
            f"{rel} is inside {STATE_DIR_NAME}/, DevFactory's own state; a run never changes it"
        )
    if _key(parts) in protected:
        raise PathRefused(
            f"{rel} configures DevFactory (settings or command policy); only you edit it"
        )
    return "/".join(parts)


def protected_files(root: Path, settings: Settings) -> frozenset[str]:
    """The workspace files that configure DevFactory itself, folded for :func:`check_path`:
    ``devfactory.toml`` and the command-policy file when it lives in the workspace."""
    found = {CONFIG_FILE}
    policy = settings.commands.policy_file
    if policy:
        target = root / policy  # as the policy loader reads it
        for base, path in ((root, target), (root.resolve(), target.resolve())):
            rel = os.path.relpath(os.path.normpath(path), base).replace(os.sep, "/")
            if rel != ".." and not rel.startswith("../"):
                found.add(rel)
    return frozenset(_key(p.split("/")) for p in found)
