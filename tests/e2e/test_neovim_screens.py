"""The Neovim plugin as a user sees it: Neovim's own terminal UI in a pseudo-terminal, read
back through a terminal emulator (pyte), against the real daemon.

A scripted run starts from ``:DevFactory run``; the console shows it in words, the proposed
hunk is drawn under the line it replaces and previews in a float, and ``:DevFactory diff``
opens it side by side. Each
step waits for the screen to show it. With ``DEVFACTORY_SCREENSHOTS=<dir>`` (``make
screenshots``) the screens are also written there as text, for the README.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyte
import pytest

from support import make_git_repo

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "neovim"
BIN = Path(sys.executable).parent
COLUMNS, LINES = 100, 40
WAIT_S = 60

APP = "def greet():\n    return 'hi'\n\n\ndef farewell():\n    return 'bye'\n"
SCRIPT = {
    "turns": [
        {"text": "## Plan\n1. Make `greet()` say **hello**\n2. Finish"},
        {
            "toolCalls": [
                {
                    "name": "edit_file",
                    "arguments": {"path": "app.py", "search": "'hi'", "replace": "'hello'"},
                }
            ]
        },
        {"toolCalls": [{"name": "finish", "arguments": {"summary": "`greet()` says hello."}}]},
    ]
}
INIT = """
vim.opt.runtimepath:prepend({plugin})
vim.o.shortmess = vim.o.shortmess .. 'I'
vim.o.laststatus = 2
vim.o.cmdheight = 2
vim.o.number = true
require('devfactory').setup({{
  cmd = {{ {daemon}, 'serve', '--stdio' }},
  settings = {{ defaultProvider = 'scripted', index = {{ enabled = false }} }},
  console = {{ split = 'botright 24split' }},
}})
"""


class Terminal(pyte.Screen):  # type: ignore[misc]
    """A screen whose answers to the program's queries go back to it."""

    def __init__(self, master: int) -> None:
        super().__init__(COLUMNS, LINES)
        self.master = master

    def write_process_input(self, data: str) -> None:
        os.write(self.master, data.encode())


class Nvim:
    """Neovim's TUI in a pseudo-terminal, and what it shows."""

    def __init__(self, workspace: Path, init: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.master = master
        self.screen = Terminal(master)
        self.stream = pyte.ByteStream(self.screen)
        self.process = subprocess.Popen(
            [str(BIN / "nvim"), "--clean", "-u", str(init), "app.py"],
            cwd=workspace,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", "COLORTERM": ""},
            start_new_session=True,
        )
        os.close(slave)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def pump(self, timeout: float = 0.1) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            with contextlib.suppress(OSError):  # the program exited
                self.stream.feed(os.read(self.master, 65536))

    def wait_for(self, what: str, seen: Callable[[str], bool]) -> str:
        """The screen once ``seen(text)`` holds (keeps reading until then)."""
        deadline = time.monotonic() + WAIT_S
        while True:
            self.pump()
            text = self.text()
            if seen(text):
                # Let the redraw that showed it finish.
                for _ in range(5):
                    self.pump(0.05)
                return self.text()
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"the screen never showed {what}:\n{text}", pytrace=False)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        self.type("\x1b:qa!\r")
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self.master)


@pytest.fixture
def nvim(tmp_path: Path) -> Iterator[Nvim]:
    if not (BIN / "nvim").exists():
        pytest.fail(f"{BIN / 'nvim'} is missing: `uv sync` installs Neovim")
    workspace = make_git_repo(
        tmp_path / "demo", {"app.py": APP, "scripts/demo.json": json.dumps(SCRIPT)}
    )
    init = tmp_path / "init.lua"
    init.write_text(
        INIT.format(plugin=json.dumps(str(PLUGIN)), daemon=json.dumps(str(BIN / "devfactory")))
    )
    editor = Nvim(workspace, init)
    editor.wait_for("app.py", lambda text: "def greet():" in text)
    yield editor
    editor.close()


def save(name: str, screen: str, until: str | None = None) -> None:
    """Keep the screen for the README: down to the first row starting with ``until`` (the
    status line of the window shown), without the rows of ``~`` past a buffer's end."""
    folder = os.environ.get("DEVFACTORY_SCREENSHOTS")
    if folder:
        rows = screen.splitlines()
        last = next((i for i, row in enumerate(rows) if until and row.startswith(until)), None)
        kept = [row for row in rows[: None if last is None else last + 1] if row.strip() != "~"]
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.txt").write_text("\n".join(kept).rstrip() + "\n")


@pytest.mark.timeout(WAIT_S * 4)
def test_a_run_reads_in_the_console_and_its_hunk_shows_where_you_look(nvim: Nvim) -> None:
    nvim.type(":DevFactory run --model=scripts/demo.json Make greet() say hello\r")
    console = nvim.wait_for("the run's end", lambda text: "Run completed" in text)
    for words in ("## Plan", "`greet()` say **hello**", "Proposed update of app.py", "summary"):
        assert words in console, words
    lines = console.splitlines()
    old = next(i for i, line in enumerate(lines) if line.endswith("    return 'hi'"))
    assert lines[old + 1].strip() == "return 'hello'", "the proposal is drawn under its line"
    save("neovim-console", console)

    nvim.type("\x1b\x17k2G\\dp")  # back to the code window, line 2, preview the hunk
    review = nvim.wait_for("the hunk preview", lambda text: "run #1 proposes (hunk 1)" in text)
    assert "-    return 'hi'" in review and "+    return 'hello'" in review
    save("neovim-review", review, until="app.py ")

    nvim.type("\x1b:DevFactory diff\r")
    diff = nvim.wait_for("the diff tab", lambda text: "devfactory://change/" in text)
    assert diff.count("def greet():") == 2, "both sides of the diff"
    rows = diff.splitlines()
    assert any("return 'hi'" in row and "return 'hello'" in row for row in rows), (
        "the two sides line up (no virtual lines in a diff window)"
    )
    save("neovim-diff", diff, until="~ ")
