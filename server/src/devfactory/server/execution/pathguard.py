"""Where a command's arguments point: inside the run's worktree, or not.

Any argument that names a path (absolute, ``~``, containing ``/`` or ``..``, or an existing
entry of the worktree) is resolved with symlinks followed; one that lands outside the worktree
is refused, so ``cat ../../secrets``, ``touch /etc/x`` and a worktree symlink to ``~/.ssh`` all
stop before anything runs. Option values (``--out=/x``, ``-o/x``, ``-uo/x``) are checked the
same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: Device files every tool may name.
HARMLESS_OUTSIDE = frozenset(
    {"/dev/null", "/dev/zero", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/urandom"}
)


def is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


MAX_CLUSTER = 32
"""Letters of a short-option cluster whose values are checked when a path follows them; longer
ones are refused (resolving every split of a 16 KB path would stall the daemon)."""
_VALUE_START = "/~.="


def _cluster(token: str) -> str:
    """The letters of a short-option cluster before anything that starts a path."""
    end = next((i for i, c in enumerate(token[1:], 1) if c in _VALUE_START), len(token))
    return token[1:end]


def candidates(token: str) -> list[str]:
    """The token and every value it may carry: ``--opt=value``, ``NAME=value``, and for a
    cluster of short options the rest after each letter, since getopt lets any letter take
    it (``-uo/x`` is ``-u -o /x``; clap also reads ``-o=/x``)."""
    found = [token]
    if token.startswith("--"):
        if "=" in token:
            found.append(token.split("=", 1)[1])
    elif token.startswith("-"):
        letters = len(_cluster(token))
        for i in range(1, 1 + (min(letters, MAX_CLUSTER) if "/" in token else letters)):
            value = token[i + 1 :]
            found += [value, value[1:]] if value.startswith("=") else [value]
    elif "=" in token:
        found.append(token.split("=", 1)[1])
    return [value for value in found if value]


def _long_cluster(token: str) -> bool:
    return (
        token.startswith("-")
        and not token.startswith("--")
        and "/" in token
        and len(_cluster(token)) > MAX_CLUSTER
    )


def resolve_argument(token: str, worktree: str) -> str | None:
    """The real path ``token`` names, or None when it does not look like a path."""
    if token.startswith("file://"):
        token = token[len("file://") :]
    if not token or "://" in token:
        return None
    if token.startswith("~"):
        expanded = os.path.expanduser(token)
        # ``~user`` that does not expand is still somebody's home: outside.
        return expanded if expanded != token else "/home/" + token[1:]
    if token.startswith("/"):
        return os.path.realpath(token)
    candidate = os.path.join(worktree, token)
    if "/" in token or token == ".." or os.path.lexists(candidate):
        return os.path.realpath(candidate)
    return None


def find_escape(tokens: Iterable[str], worktree: str) -> str | None:
    """A sentence naming the first argument that points outside ``worktree`` (a real path)."""
    for token in tokens:
        if _long_cluster(token):
            return (
                f"`{token[:40]}...` is too long a cluster of short options to check;"
                " pass them separately"
            )
        for candidate in candidates(token):
            real = resolve_argument(candidate, worktree)
            if real is None or real in HARMLESS_OUTSIDE or is_within(real, worktree):
                continue
            lexical = os.path.normpath(os.path.join(worktree, candidate))
            if not candidate.startswith(("/", "~")) and is_within(lexical, worktree):
                return (
                    f"`{token}` goes through a symlink in the worktree that points outside it"
                    f" (to {real})"
                )
            return f"`{token}` points outside the run's worktree (to {real})"
    return None


GIT = "the worktree's .git"


def names_worktree_core(token: str, worktree: str) -> str | None:
    """What ``token`` would destroy if deleted or moved: the worktree, an ancestor, or .git."""
    real = resolve_argument(token, worktree)
    if real is None:
        return None
    if real == worktree or is_within(worktree, real):
        return "the worktree itself" if real == worktree else f"{real}, which contains the worktree"
    if _inside_git(real, worktree):
        return GIT
    return None


def _inside_git(real: str, worktree: str) -> bool:
    """``real`` is the worktree's .git or inside it, by spelling or by identity: on a
    case-insensitive filesystem (macOS by default) ``.GIT`` is ``.git``, and so is a hard link."""
    git = os.path.join(worktree, ".git")
    if is_within(real, git):
        return True
    try:
        git_stat = os.lstat(git)
    except OSError:
        return False
    path = real
    while is_within(path, worktree) and path != worktree:
        try:
            if os.path.samestat(os.lstat(path), git_stat):
                return True
        except OSError:
            pass
        path = os.path.dirname(path)
    return False


def real_worktree(path: str | Path) -> str:
    return os.path.realpath(path)
