"""Registering the workspace as a project on ``initialize``."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from devfactory.storage import Store

from ..git.ignore import literal_pattern
from ..git.runner import GitRunner
from ..paths import STATE_DIR_NAME


def slugify(text: str, max_length: int = 40) -> str:
    """``My Project!`` -> ``my-project``; never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "project"


TEAM_PREFIX = "team:"


def project_key(root: Path, team_project: str | None) -> str:
    """What the database knows the project by: the team's name for it when one is set (the
    same on every machine of the team), else the workspace's folder."""
    return f"{TEAM_PREFIX}{team_project}" if team_project else str(root)


async def project_id(
    store: Store, root: Path, team_project: str | None, *, register: bool
) -> int | None:
    """The id of ``root``'s project in ``store`` (known by ``project_key``, as ``initialize``
    knows it), for commands that run without a daemon (``devfactory token``); registered now
    (its branches left for ``initialize`` to fill) when ``register`` and it is not there yet."""
    key = project_key(root, team_project)
    project = await store.projects.by_root(key)
    if project is None and register:
        name = team_project or root.name
        project = await store.projects.register(
            root_path=key, name=name, slug=slugify(name), default_branch=None, current_branch=None
        )
    return None if project is None else project.id


@dataclass(frozen=True)
class Repository:
    """What ``initialize`` needs to know of the workspace's git repository."""

    is_worktree: bool
    """False when the folder is not in a git work tree (snapshots use a private one)."""
    exclude: Path | None
    """Its ``info/exclude`` file."""
    default_branch: str | None
    """origin's HEAD, else main or master, else the current branch."""
    current_branch: str | None
    prefix: str = ""
    """The workspace's folder inside the repository (``pkg/``), empty at its top: such a
    workspace keeps its snapshots and runs' worktrees in a private repository of its own, as a
    folder without git does (the enclosing repository's history is the user's whole project;
    a run's changes and restores are the workspace's)."""


class NotAWorkspace(Exception):
    """The folder must not be opened as a workspace; the message says what to open."""


async def inspect(git: GitRunner) -> Repository:
    """Ask git once, in three calls at the same time (this is on the editor's start-up path).

    git's refusal of a repository owned by someone else ("dubious ownership") raises the
    GitError that explains it. A repository's own folder (a bare repository, a ``.git``
    folder or one inside it) raises NotAWorkspace: it holds the repository's config (remote
    URLs with tokens) and hooks, which must not be indexed, shown to a model or written
    into."""
    where, head, refs = await asyncio.gather(
        git.run(
            "rev-parse", "--is-inside-work-tree", "--is-inside-git-dir", "--show-prefix",
            "--git-path", "info/exclude",
            check=False, audit=False,
        ),
        git.run("symbolic-ref", "--short", "-q", "HEAD", check=False, audit=False),
        git.run(
            "for-each-ref", "--format=%(refname) %(symref)", *_DEFAULT_BRANCH_REFS,
            check=False, audit=False,
        ),
    )  # fmt: skip
    if "dubious ownership" in where.stderr:
        await git.run("rev-parse", "--is-inside-work-tree")  # raises the explained GitError
    lines = where.stdout.splitlines()
    if ".git" in git.cwd.parts or (where.ok and lines[1:2] == ["true"]):
        raise NotAWorkspace(
            f"{git.cwd} is inside a git repository's own folder (its config, hooks and "
            "objects), not its work tree: open the repository's working folder instead"
        )
    if not where.ok or not lines or lines[0] != "true":
        return Repository(False, None, None, None)
    exclude = Path(lines[3]) if len(lines) > 3 else Path(".git/info/exclude")
    current = head.stdout.strip() or None
    found = dict(line.partition(" ")[::2] for line in refs.stdout.splitlines())
    return Repository(
        True,
        exclude if exclude.is_absolute() else git.cwd / exclude,
        _default_branch(found) or current,
        current,
        lines[2] if len(lines) > 2 else "",
    )


_DEFAULT_BRANCH_REFS = ("refs/remotes/origin/HEAD", "refs/heads/main", "refs/heads/master")


def _default_branch(refs: dict[str, str]) -> str | None:
    """origin's HEAD (where it points), else main, else master (``refs``: name -> target)."""
    if target := refs.get("refs/remotes/origin/HEAD"):
        return target.removeprefix("refs/remotes/origin/")
    return next((ref.rpartition("/")[2] for ref in _DEFAULT_BRANCH_REFS[1:] if ref in refs), None)


def exclude_state_dir(exclude: Path, prefix: str = "") -> None:
    """Add the workspace's ``.devfactory/`` to the repository's ``info/exclude`` (never to the
    user's .gitignore); ``prefix``: the workspace's folder in the repository (``pkg/``)."""
    entry = literal_pattern(f"{prefix}{STATE_DIR_NAME}/")
    if entry is None:  # a folder whose name holds a line break: no line can name it
        return
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
