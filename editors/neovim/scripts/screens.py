"""Put the Neovim screen captures (``docs/screenshots/neovim-*.txt``, written by
``tests/e2e/test_neovim_screens.py``) into the README, between their markers::

    <!-- screen: neovim-review -->
    ...replaced...
    <!-- /screen -->

``make screenshots`` runs it after the test (the captures carry clock times, so they change
with every run).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
SCREENS = ROOT / "docs" / "screenshots"
BLOCK = re.compile(r"(<!-- screen: (?P<name>[\w-]+) -->\n).*?(<!-- /screen -->)", re.S)


def embedded(readme: str) -> str:
    def capture(match: re.Match[str]) -> str:
        text = (SCREENS / f"{match['name']}.txt").read_text().rstrip("\n")
        return f"{match[1]}```text\n{text}\n```\n{match[3]}"

    return BLOCK.sub(capture, readme)


if __name__ == "__main__":
    README.write_text(embedded(README.read_text()))
