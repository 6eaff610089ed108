"""Registering the workspace as a project on ``initialize``."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..git.runner import GitRunner
from ..paths import STATE_DIR_NAME


def slugify(text: str, max_length: int = 40) -> str:
    """``My Project!`` -> ``my-project``; never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "project"


async def is_git_worktree(git: GitRunner) -> bool:
    result = await git.run("rev-parse", "--is-inside-work-tree", check=False, audit=False)
    if "dubious ownership" in result.stderr:
        await git.run("rev-parse", "--is-inside-work-tree")  # raises the explained GitError
    return result.ok and result.stdout.strip() == "true"


async def branches(git: GitRunner) -> tuple[str | None, str | None]:
    """(default branch, current branch) of the repository, when there is one."""
    current_result = await git.run(
        "symbolic-ref", "--short", "-q", "HEAD", check=False, audit=False
    )
    current = current_result.stdout.strip() or None
    remote_head = await git.run(
        "symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD", check=False, audit=False
    )
    if remote_head.ok and remote_head.stdout.strip():
        return remote_head.stdout.strip().split("/", 1)[-1], current
    for candidate in ("main", "master"):
        found = await git.run(
            "show-ref", "--verify", "-q", f"refs/heads/{candidate}", check=False, audit=False
        )
        if found.ok:
            return candidate, current
    return current, current


async def exclude_state_dir(git: GitRunner) -> None:
    """Add ``.devfactory/`` to ``.git/info/exclude`` (never to the user's .gitignore)."""
    rel = await git.out("rev-parse", "--git-path", "info/exclude", audit=False)
    exclude = Path(rel) if Path(rel).is_absolute() else git.cwd / rel
    entry = f"/{STATE_DIR_NAME}/"
    try:
        existing = exclude.read_text("utf-8").splitlines()
    except FileNotFoundError:
        existing = []
    if entry in existing or f"{STATE_DIR_NAME}/" in existing:
        return
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a", encoding="utf-8") as handle:
        if existing and existing[-1] != "":
            handle.write("\n")
        handle.write(f"# DevFactory state (added by the devfactory daemon)\n{entry}\n")
