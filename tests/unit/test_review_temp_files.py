"""A daemon killed between writing an atomic write's temp file and renaming it leaves the temp
file next to the user's file: the next daemon removes it, and never a live writer's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devfactory.server.review.files import atomic_write, remove_stale_temps


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temp_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    atomic_write(tmp_path / "src" / "app.py", b"new\n")
    stale = tmp_path / "src" / f".app.py.{dead_pid()}.k3j_x9a2.devfactory"
    live = tmp_path / "src" / f".app.py.{os.getpid()}.q8w2e4r6.devfactory"
    unrelated = tmp_path / "src" / ".app.py.devfactory"
    for path in (stale, live, unrelated):
        path.write_bytes(b"half")

    assert remove_stale_temps(tmp_path, ["src/app.py", "src/other.py", "gone/x.py"]) == [stale]
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == sorted(
        ["app.py", live.name, unrelated.name]
    )
    assert (tmp_path / "src" / "app.py").read_bytes() == b"new\n"
