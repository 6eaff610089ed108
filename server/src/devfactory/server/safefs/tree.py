"""``SafeTree``: one folder (the workspace or a run's worktree) read and written without ever
following a link out of it.

Every operation checks the path rules, then walks from the root one directory descriptor at a
time with ``O_NOFOLLOW``: a symbolic link anywhere on the way (or at the end, or swapped in
while the operation runs) makes it fail with :class:`PathRefused`, never read or write
elsewhere. Reads refuse anything but a regular file (a FIFO would hang the daemon) and stop at
a size limit before reading; writes are atomic (temporary file + rename in the same folder).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .names import PathRefused, check_path, shown

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20
_TEMP_SUFFIX = ".devfactory"
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}" + re.escape(_TEMP_SUFFIX) + "$")
"""``.<name>.<pid of the writer>.<random>.devfactory``, next to the file it replaces."""


def _temp_name(name: str) -> str:
    return f".{name[:64]}.{os.getpid()}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"


class FileTooLarge(Exception):
    """A file is larger than the caller reads; nothing of it was read."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        self.path = path
        self.size = size
        self.limit = limit
        super().__init__(
            f"{shown(path)} is {human_size(size)}, more than the {human_size(limit)} limit"
        )


def human_size(size: int) -> str:
    value, unit = float(size), "bytes"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    return "a device, socket or pipe"


def _lstat_at(parent: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


class SafeTree:
    """Reads and writes under ``root``; relative paths only, through the path rules."""

    def __init__(self, root: Path, protected: frozenset[str] = frozenset()) -> None:
        self.root = Path(os.path.realpath(root))
        self.protected = protected

    def check(self, rel: object) -> str:
        """The clean relative path, or PathRefused (see :func:`names.check_path`)."""
        return check_path(rel, self.protected)

    def resolve(self, rel: object) -> str:
        """The clean path of the file ``rel`` names, following links that stay inside.

        For the agent's tools, where a link of the project (``alias.py -> calc.py``) works as
        it does in an editor. The real path is checked again: a link into ``.git`` or
        ``.devfactory`` is refused like the path itself.
        """
        clean = self.check(rel)
        real = os.path.realpath(self.root / clean)
        inside = os.path.relpath(real, self.root)
        if inside == ".." or inside.startswith("../") or os.path.isabs(inside):
            raise PathRefused(f"{shown(str(rel))} points outside the project (a symbolic link)")
        return self.check(inside.replace(os.sep, "/"))

    # -- reading -------------------------------------------------------------------------------

    def lstat(self, rel: str) -> os.stat_result | None:
        """The entry itself (a link is not followed), or None when there is none."""
        parts = self._parts(rel)
        try:
            with self._parent(parts, create=False) as parent:
                return _lstat_at(parent, parts[-1])
        except FileNotFoundError:
            return None

    def read(self, rel: str, limit: int) -> bytes | None:
        """The bytes of a regular file, None when there is none; FileTooLarge past ``limit``."""
        parts = self._parts(rel)
        try:
            with self._parent(parts, create=False) as parent:
                fd = self._open_at(parent, parts, _READ_FLAGS)
        except FileNotFoundError:
            return None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            os.close(fd)
            if not stat.S_ISREG(info.st_mode):
                raise PathRefused(f"{shown(rel)} is {_kind(info.st_mode)}, not a regular file")
            raise FileTooLarge(rel, info.st_size, limit)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:  # it grew while we read
            raise FileTooLarge(rel, len(data), limit)
        return data

    def list_dir(self, rel: str) -> list[str] | None:
        """The names of the regular files directly in folder ``rel``, sorted; None when there
        is no such folder. Links, folders and devices in it are left out (never followed)."""
        parts = self._parts(rel)
        try:
            with self._parent([*parts, "."], create=False) as fd:
                names = os.listdir(fd)
                return sorted(
                    name
                    for name in names
                    if (info := _lstat_at(fd, name)) is not None and stat.S_ISREG(info.st_mode)
                )
        except FileNotFoundError:
            return None

    # -- writing -------------------------------------------------------------------------------

    def write(self, rel: str, data: bytes, *, mode: int | None = None) -> None:
        """Replace (or create) the file atomically; keeps its mode unless ``mode`` is given.

        Missing folders are created; a link or a folder where the file goes is refused.
        """
        parts = self._parts(rel)
        with self._parent(parts, create=True) as parent:
            current = self._replaceable(parent, rel, parts[-1])
            if mode is None and current is not None:
                mode = current.st_mode & 0o7777
            temp = _temp_name(parts[-1])
            fd = os.open(temp, _TEMP_FLAGS, 0o666, dir_fd=parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    if mode is not None:
                        os.fchmod(out.fileno(), mode)
                    os.fsync(out.fileno())
                os.replace(temp, parts[-1], src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp, dir_fd=parent)
                raise

    def install(self, rel: str, staged: Path) -> None:
        """Move a file prepared elsewhere on the same filesystem into place, in one step."""
        parts = self._parts(rel)
        with self._parent(parts, create=True) as parent:
            self._replaceable(parent, rel, parts[-1])
            try:
                os.rename(staged, parts[-1], dst_dir_fd=parent)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
        info = os.stat(staged)
        self.write(rel, staged.read_bytes(), mode=info.st_mode & 0o7777)
        staged.unlink()

    def check_link(self, rel: str, target: str) -> None:
        """PathRefused unless the link ``rel`` -> ``target`` leads to a path the rules allow,
        read from the link's folder: a link written here never leads out of the tree (nor
        into ``.git``, ``.devfactory/`` or the protected files), wherever the link came from.

        Judged on the text, so an absolute target is refused even when it names a path inside.
        """
        *reached, _ = self._parts(rel)
        out = PathRefused(f"{shown(rel)} links outside the project (to {shown(target)})")
        if target.startswith("/"):
            raise out
        for part in target.split("/"):
            if part == "..":
                if not reached:
                    raise out
                reached.pop()
            elif part not in ("", "."):
                reached.append(part)
        try:
            self.check("/".join(reached))
        except PathRefused as exc:
            raise PathRefused(f"{shown(rel)} links to {shown(target)}: {exc}") from None

    def symlink(self, rel: str, target: str) -> None:
        """Make ``rel`` a link to ``target`` (replacing a file or link there, atomically);
        PathRefused for a target :meth:`check_link` refuses."""
        self.check_link(rel, target)
        parts = self._parts(rel)
        with self._parent(parts, create=True) as parent:
            self._replaceable(parent, rel, parts[-1], link_ok=True)
            temp = _temp_name(parts[-1])
            os.symlink(target, temp, dir_fd=parent)
            try:
                os.replace(temp, parts[-1], src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp, dir_fd=parent)
                raise

    def delete(self, rel: str) -> bool:
        """Remove the file or link (never what a link points to); False when there is none."""
        parts = self._parts(rel)
        try:
            with self._parent(parts, create=False) as parent:
                current = _lstat_at(parent, parts[-1])
                if current is None:
                    return False
                if stat.S_ISDIR(current.st_mode):
                    raise PathRefused(f"{shown(rel)} is a folder, not a file")
                os.unlink(parts[-1], dir_fd=parent)
                return True
        except FileNotFoundError:
            return False

    def prune(self, rel: str) -> None:
        """Remove the folders above ``rel`` that are now empty, deepest first."""
        parts = self._parts(rel)
        for depth in range(len(parts) - 1, 0, -1):
            folder = parts[:depth]
            try:
                with self._parent(folder, create=False) as parent:
                    os.rmdir(folder[-1], dir_fd=parent)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT, errno.ENOTDIR):
                    return
                raise

    def remove_stale_temps(self, rels: Iterable[str], alive: Callable[[int], bool]) -> int:
        """Delete the temp files that atomic writes of dead processes (kill -9 between writing
        and renaming) left next to ``rels``; the files themselves are whole, old or new.
        Returns how many went."""
        removed = 0
        for folder in sorted({rel.rpartition("/")[0] for rel in rels}):
            try:
                parts = self._parts(folder) if folder else []
                with self._parent([*parts, "."], create=False) as fd:  # the folder itself
                    for name in os.listdir(fd):
                        match = _TEMP_NAME.match(name)
                        if match is None or alive(int(match[1])):
                            continue
                        current = _lstat_at(fd, name)
                        if current is not None and stat.S_ISREG(current.st_mode):
                            with contextlib.suppress(FileNotFoundError):
                                os.unlink(name, dir_fd=fd)
                                removed += 1
            except (OSError, PathRefused):
                continue  # a folder gone, or one the rules refuse: nothing of ours there
        return removed

    # -- the walk ------------------------------------------------------------------------------

    def _parts(self, rel: str) -> list[str]:
        return self.check(rel).split("/")

    @contextlib.contextmanager
    def _parent(self, parts: list[str], *, create: bool) -> Iterator[int]:
        """A descriptor of the folder holding ``parts[-1]``, reached without following links.

        Raises FileNotFoundError when a folder is missing (and ``create`` is false).
        """
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for depth, name in enumerate(parts[:-1], start=1):
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, dir_fd=fd)
                child = self._open_at(fd, parts[:depth], _DIR_FLAGS)
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _open_at(parent: int, parts: list[str], flags: int) -> int:
        try:
            return os.open(parts[-1], flags, dir_fd=parent)
        except (FileNotFoundError, PermissionError):
            raise
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK, errno.ENXIO):
                raise
            current = _lstat_at(parent, parts[-1])
            if current is None:
                raise FileNotFoundError(errno.ENOENT, "vanished", "/".join(parts)) from None
            name = shown("/".join(parts))
            if stat.S_ISLNK(current.st_mode):
                raise PathRefused(
                    f"{name} is a symbolic link; DevFactory never follows links here"
                ) from None
            wanted = ", not a folder" if flags & os.O_DIRECTORY else ""
            raise PathRefused(f"{name} is {_kind(current.st_mode)}{wanted}") from None

    @staticmethod
    def _replaceable(
        parent: int, rel: str, name: str, *, link_ok: bool = False
    ) -> os.stat_result | None:
        current = _lstat_at(parent, name)
        if current is None or stat.S_ISREG(current.st_mode):
            return current
        if link_ok and stat.S_ISLNK(current.st_mode):
            return current
        raise PathRefused(f"{shown(rel)} is {_kind(current.st_mode)}; nothing was written")
