"""Putting the workspace back as a snapshot has it: never through a link, all or nothing.

The plan compares the snapshot's tree with the tree of the workspace as it is now (the safety
snapshot a restore takes first): entries to remove (gone from the snapshot, or changing type:
file, link, folder) and entries to write. It is checked whole before anything changes: every
path against the path rules, every folder on the way (a file or link where the snapshot needs
a folder must be one the plan removes; files git ignores in a folder that must become a file
stop the restore). The contents are then checked out into a staging folder under
``.devfactory/`` and every link among them checked (none may lead out of the tree); only then
do the removals (deepest first; a link is unlinked, never followed) and the moves into place
run, through ``SafeTree``.
"""

from __future__ import annotations

import asyncio
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..safefs import PathRefused, SafeTree
from .repository import WorkspaceRepository

ABSENT = "000000"
LINK = "120000"
SUBMODULE = "160000"


class RestoreRefused(Exception):
    """The restore would lose or endanger something; nothing was changed."""


class HalfRestored(Exception):
    """Removing or moving entries into place failed part of the way: roll back."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__(str(failure))
        self.failure = failure


@dataclass(frozen=True)
class Entry:
    path: str
    mode: str

    @property
    def is_link(self) -> bool:
        return self.mode == LINK


@dataclass
class RestorePlan:
    removes: list[str] = field(default_factory=list)
    """Entries of the workspace to delete first (files or links)."""
    writes: list[Entry] = field(default_factory=list)
    """Entries of the snapshot to put in place afterwards."""

    @property
    def files(self) -> list[str]:
        return sorted({*self.removes, *(entry.path for entry in self.writes)})


def _kind(mode: str) -> str | None:
    if mode == ABSENT:
        return None
    if mode == LINK:
        return "link"
    if mode == SUBMODULE:
        return "submodule"
    return "file"


async def plan_restore(
    repo: WorkspaceRepository, tree: SafeTree, current_tree: str, target_tree: str
) -> RestorePlan:
    """What turns ``current_tree`` into ``target_tree``; RestoreRefused for a path the rules
    refuse (``.git``, ``.devfactory/``, control characters: a snapshot edited by hand)."""
    result = await repo.run(
        "diff-tree", "-r", "-z", "--no-renames", current_tree, target_tree, audit=False
    )
    records = result.stdout_bytes.split(b"\0")
    plan = RestorePlan()
    for meta, raw_path in zip(records[0::2], records[1::2], strict=False):
        if not meta:
            continue
        old_mode, new_mode, *_ = meta.decode().lstrip(":").split()
        path = raw_path.decode("utf-8", "surrogateescape")
        try:
            tree.check(path)
        except PathRefused as exc:
            raise RestoreRefused(f"the snapshot holds a path restores never write: {exc}") from None
        old, new = _kind(old_mode), _kind(new_mode)
        if old == new == "submodule":
            continue  # a submodule's commit moved: checking it out is git's job, not ours
        if "submodule" in (old, new):
            raise RestoreRefused(f"{path} is a submodule on one side; restore it with git")
        if old is not None and old != new:
            plan.removes.append(path)
        if new is not None:
            plan.writes.append(Entry(path, new_mode))
    return plan


def check_plan(tree: SafeTree, plan: RestorePlan) -> None:
    """RestoreRefused when the workspace holds something the plan would trample."""
    removing = set(plan.removes)
    try:
        for path in plan.removes:
            info = tree.lstat(path)
            if info is not None and stat.S_ISDIR(info.st_mode):
                raise RestoreRefused(f"{path} became a folder since the safety snapshot; retry")
        for entry in plan.writes:
            _check_destination(tree, entry.path, removing)
    except PathRefused as exc:
        raise RestoreRefused(str(exc)) from None


def _check_destination(tree: SafeTree, path: str, removing: set[str]) -> None:
    parts = path.split("/")
    for depth in range(1, len(parts)):
        prefix = "/".join(parts[:depth])
        if prefix in removing:
            return  # removed first; everything below is created fresh
        info = tree.lstat(prefix)
        if info is None:
            return
        if not stat.S_ISDIR(info.st_mode):
            what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "a file"
            raise RestoreRefused(
                f"{prefix} is {what} the snapshot does not know (ignored by git?), where it"
                f" needs a folder for {path}; move it away and restore again"
            )
    info = tree.lstat(path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        left = sorted(set(_entries_under(tree.root, path)) - removing)
        if left:
            raise RestoreRefused(
                f"{path} is a folder holding {left[0]} (and {len(left) - 1} more) that the"
                " snapshot does not know (ignored by git?), where it has a file; move them"
                " away and restore again"
            )


def _entries_under(root: Path, folder: str) -> list[str]:
    """Workspace-relative paths of the files and links below ``folder`` (links not followed)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root / folder):
        rel = Path(dirpath).relative_to(root).as_posix()
        links = [name for name in dirnames if os.path.islink(os.path.join(dirpath, name))]
        found += [f"{rel}/{name}" for name in [*filenames, *links]]
    return found


async def stage(
    repo: WorkspaceRepository, target_tree: str, plan: RestorePlan, staging: Path
) -> None:
    """Check the entries to write out into ``staging`` (same layout, modes and links)."""
    if not plan.writes:
        return
    async with repo.scratch_index() as env:
        await repo.run("read-tree", target_tree, env=env, audit=False)
        await repo.run(
            "checkout-index",
            "-f",
            "-z",
            "--stdin",
            f"--prefix={staging}/",
            env=env,
            operation="restore",
            input=b"".join(os.fsencode(entry.path) + b"\0" for entry in plan.writes),
        )


def check_links(tree: SafeTree, plan: RestorePlan, staging: Path) -> None:
    """RestoreRefused for a staged link that leads out of the tree (or into what the path
    rules refuse): checked before anything changes, not half-way through the moves."""
    for entry in plan.writes:
        if entry.is_link:
            try:
                tree.check_link(entry.path, os.readlink(staging / entry.path))
            except PathRefused as exc:
                raise RestoreRefused(f"restores never write such a link: {exc}") from None


def commit(tree: SafeTree, plan: RestorePlan, staging: Path) -> None:
    """Remove, then move the staged entries into place; nothing here follows a link."""
    for path in sorted(plan.removes, key=lambda p: p.count("/"), reverse=True):
        tree.delete(path)
        tree.prune(path)
    for entry in plan.writes:
        staged = staging / entry.path
        if entry.is_link:
            tree.symlink(entry.path, os.readlink(staged))
        else:
            tree.install(entry.path, staged)


async def put_tree(
    repo: WorkspaceRepository,
    root: Path,
    current_tree: str,
    target_tree: str,
    protected: frozenset[str] = frozenset(),
) -> list[str]:
    """Make the files under ``root`` (the workspace or a run's worktree), which are
    ``current_tree`` now, be ``target_tree``; returns the paths written or deleted.

    ``protected``: files never written or deleted (``safefs.protected_files``): the
    workspace's settings. A worktree's copy configures nothing, and rewinding may put it back.
    RestoreRefused: nothing was changed. HalfRestored: some entries were, roll back.
    """
    tree = SafeTree(root, protected)
    plan = await plan_restore(repo, tree, current_tree, target_tree)
    await asyncio.to_thread(check_plan, tree, plan)
    repo.paths.state.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="restore-", dir=repo.paths.state) as staging:
        await stage(repo, target_tree, plan, Path(staging))
        check_links(tree, plan, Path(staging))
        try:
            await asyncio.to_thread(commit, tree, plan, Path(staging))
        except Exception as exc:
            raise HalfRestored(exc) from exc
    return plan.files
