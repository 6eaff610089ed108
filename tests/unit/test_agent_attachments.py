"""Attachments: @mentions, editor context, hostile paths, and the budget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devfactory.protocol.context import ContextDiagnostic, ContextItem, Position, Range
from devfactory.server.agents.attachments import (
    Attachment,
    AttachmentError,
    SymbolDefinition,
    fit,
    mentions,
    render,
    resolve_all,
    workspace_reader,
)

CALC = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"


@pytest.mark.parametrize(
    ("prompt", "found"),
    [
        ("Fix @calc.py and @src/app.py.", ["calc.py", "src/app.py"]),
        ("Why does @add fail? Compare with @add.", ["add"]),
        ("Mail me at me@example.com", []),
        ("Decorate it with `@pytest.fixture`", []),
        ("```\n@decorator\ndef f(): ...\n```\nthen @calc.py", ["calc.py"]),
        ("Look at @../../etc/passwd", ["../../etc/passwd"]),
        ("(see @calc.py)", ["calc.py"]),
    ],
)
def test_mentions_are_found_outside_code(prompt: str, found: list[str]) -> None:
    assert mentions(prompt) == found


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "src" / "app.py").write_text("print('app')\n")
    (root / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / "secret.txt").write_text("SECRET")
    os.symlink(tmp_path / "secret.txt", root / "leak.txt")
    return root


async def find_symbol(name: str) -> list[SymbolDefinition]:
    known = {"add": [SymbolDefinition("calc.add", "calc.py", 1, 2)]}
    return known.get(name.rsplit(".", 1)[-1] if name.startswith("calc.") else name, [])


async def attach(root: Path, prompt: str, items: list[ContextItem] = (), budget: int = 10_000):
    read = workspace_reader(root)
    return await resolve_all(prompt, list(items), root, read, find_symbol, budget)


async def test_a_file_mention_and_a_symbol_mention_attach_their_text(workspace: Path) -> None:
    found = await attach(workspace, "Compare @src/app.py with @calc.add")
    assert [(a.kind, a.label, a.text) for a in found] == [
        ("file", "src/app.py", "print('app')\n"),
        ("symbol", "calc.py:1-2", "def add(a, b):\n    return a - b\n"),
    ]


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("Fix @nothing_here", "@nothing_here: no file or symbol of that name"),
        ("Read @../../etc/passwd", "@../../etc/passwd: refused: ../../etc/passwd points outside"),
        ("Read @/etc/passwd", "@/etc/passwd: refused: /etc/passwd is absolute"),
        ("Read @leak.txt", "@leak.txt: refused: leak.txt points outside the project"),
        ("Read @.git/config", "refused: .git/config is inside .git"),
        ("Read @blob.bin", "blob.bin is a binary file"),
    ],
)
async def test_mentions_that_cannot_be_attached_are_clear_errors(
    workspace: Path, prompt: str, reason: str
) -> None:
    with pytest.raises(AttachmentError) as refused:
        await attach(workspace, prompt)
    assert reason in str(refused.value)
    assert "SECRET" not in str(refused.value)


def selection(uri: str, first: int, last: int) -> ContextItem:
    return ContextItem(
        uri=uri, range=Range(start=Position(line=first), end=Position(line=last, character=0))
    )


async def test_editor_context_attaches_selections_files_and_problems(workspace: Path) -> None:
    uri = (workspace / "calc.py").as_uri()
    problem = ContextDiagnostic(
        range=Range(start=Position(line=1, character=4), end=Position(line=1, character=16)),
        message="add subtracts",
        severity="warning",
        source="reviewer",
    )
    found = await attach(
        workspace,
        "Fix this",
        [
            selection(uri, 4, 6),  # lines 5-6: the end at column 0 ends the line before
            ContextItem(uri="src/app.py"),
            ContextItem(uri=uri, diagnostics=[problem]),
        ],
    )
    assert [(a.kind, a.label) for a in found] == [
        ("selection", "calc.py:5-6"),
        ("file", "src/app.py"),
        ("diagnostics", "calc.py"),
    ]
    assert found[0].text == "def sub(a, b):\n    return a - b\n"
    assert found[2].text == ("- line 2: warning (reviewer): add subtracts\n        return a - b\n")


async def test_context_outside_the_workspace_is_refused(workspace: Path, tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match="outside the workspace"):
        await attach(workspace, "x", [ContextItem(uri=(tmp_path / "secret.txt").as_uri())])
    with pytest.raises(AttachmentError, match="context: leak.txt: refused"):
        await attach(workspace, "x", [ContextItem(uri=(workspace / "leak.txt").as_uri())])


async def test_an_open_buffer_wins_over_the_file_on_disk(workspace: Path) -> None:
    read = workspace_reader(workspace, lambda rel: "unsaved\n" if rel == "calc.py" else None)
    assert await read("./calc.py") == "unsaved\n"
    assert await read("src/app.py") == "print('app')\n"


def test_the_budget_keeps_small_attachments_whole_and_cuts_large_ones_on_lines() -> None:
    small = Attachment("selection", "a.py", "x = 1\n", original_chars=6)
    big = Attachment("file", "big.py", "".join(f"line {i}\n" for i in range(1, 1001)))
    kept = fit([big, small], budget=106)
    assert kept[1] == small
    assert kept[0].truncated and kept[0].text.startswith("line 1\nline 2\n")
    assert "lines 1-13 are shown" in kept[0].text  # 100 characters hold 13 whole lines
    assert f"{len(big.text) - 95} of {len(big.text)} characters are not" in kept[0].text
    assert "read the rest with read_file" in render(kept)


def test_render_fences_text_that_holds_backticks() -> None:
    text = render([Attachment("file", "doc.md", "```python\nx\n```\n", note="@doc.md")])
    assert text == "# Attached context\n\n## doc.md (@doc.md)\n````\n```python\nx\n```\n````"
