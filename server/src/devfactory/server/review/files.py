"""Content helpers: hashes, text, binary sniffing and three-way merges (writes go through
``safefs``)."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from pathlib import Path


def sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def as_text(data: bytes | None) -> str:
    """The text of ``data``; lossless only where ``is_binary`` is false, so fit to write back
    only there (elsewhere each byte that is not UTF-8 becomes U+FFFD)."""
    return "" if data is None else data.decode("utf-8", "replace")


def is_binary(data: bytes | None) -> bool:
    """Whether ``data`` is reviewed and applied whole, never as text: a NUL in the first 8 KiB,
    or not UTF-8 (Latin-1, say), whose text would change every such byte when written back."""
    if data is None:
        return False
    if b"\0" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


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
