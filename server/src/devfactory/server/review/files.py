"""Reading and writing the user's files safely: atomic writes and three-way merges."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..runs.ownership import pid_alive


def sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


TEMP_SUFFIX = ".devfactory"
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + "$")
"""``.<name>.<pid of the writer>.<random>.devfactory``, next to the file it replaces."""


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temp file + rename), keeping its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, temp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def remove_stale_temps(root: Path, paths: Iterable[str]) -> list[Path]:
    """Delete the temp files that atomic writes of dead daemons (kill -9 between writing and
    renaming) left next to ``paths`` (relative to ``root``); a live writer's stay. The files
    themselves are whole, old or new. Returns what went (blocking)."""
    removed = []
    for folder in sorted({(root / path).parent for path in paths}):
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                match = _TEMP_NAME.match(entry.name)
                if match and entry.is_file(follow_symlinks=False) and not pid_alive(int(match[1])):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


async def merge_three_way(ours: str, base: str, theirs: str) -> tuple[str, bool]:
    """``git merge-file``: (merged text, clean). On conflicts the text has conflict markers
    and must not be written."""
    with tempfile.TemporaryDirectory(prefix="devfactory-merge-") as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        process = await asyncio.create_subprocess_exec(
            "git",
            "merge-file",
            "-p",
            "-L",
            "yours",
            "-L",
            "base",
            "-L",
            "agent",
            *paths,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
    if process.returncode is None or not 0 <= process.returncode < 128:
        raise RuntimeError(f"git merge-file failed: {stderr.decode(errors='replace')}")
    return stdout.decode("utf-8"), process.returncode == 0
