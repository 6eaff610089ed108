"""The corpus of a task: the repository's tree at the commit's parent, on disk.

One working tree per repository (a ``git clone --shared`` of the fetched mirror, outside this
repository), moved from one task's parent to the next with ``git checkout --force`` and
``git clean``. Git rewrites only the files that differ and leaves the others' mtimes alone,
so DevFactory's incremental pass re-reads exactly those; :func:`tree` lists what the tree
holds, which the index is checked against before every task.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import NamedTuple

from ..common import git

#: Modes of the tree entries that are files on disk (regular, executable, symbolic link).
FILE_MODES = frozenset({"100644", "100755", "120000"})


class TreeEntry(NamedTuple):
    mode: str
    blob: str


class Checkout:
    """A working tree of one repository that can be moved to any of its commits."""

    def __init__(self, git_dir: Path, root: Path) -> None:
        self.git_dir = git_dir
        self.root = root

    def prepare(self) -> None:
        """Clone the mirror (objects shared, nothing checked out) unless done before."""
        if (self.root / ".git").is_dir():
            return
        self.root.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "git",
                "clone",
                "--quiet",
                "--shared",
                "--no-checkout",
                str(self.git_dir),
                str(self.root),
            ],
            check=True,
        )

    def switch(self, commit: str) -> None:
        """Make the working tree exactly ``commit``'s tree (no untracked or ignored files)."""
        git(self.root, "checkout", "--quiet", "--force", "--detach", commit)
        git(self.root, "clean", "-ffdxq")
        head = git(self.root, "rev-parse", "HEAD").strip()
        status = git(self.root, "status", "--porcelain", "--ignored", "--untracked-files=all")
        if head != commit or status.strip():
            raise RuntimeError(f"{self.root} is not a clean checkout of {commit}: {status[:500]}")

    def tree(self, commit: str) -> dict[str, TreeEntry]:
        """Path -> (mode, blob id) of every file in ``commit``'s tree (submodules left out)."""
        listing = git(self.root, "-c", "core.quotePath=false", "ls-tree", "-r", "-z", commit)
        entries = {}
        for record in listing.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, _kind, blob = meta.split()
            if mode in FILE_MODES:
                entries[path] = TreeEntry(mode, blob)
        return entries
