"""What the user attaches to a message: editor context and ``@mentions``.

Editors send ``context: [{uri, range?, diagnostics?}]`` (a whole file, a selection, the
problems the editor shows); a prompt may name ``@path/to/file`` or ``@symbol`` (resolved
through the index). Every file is read through the one resolver, as the user sees it (an
open editor buffer first). A mention that names nothing is an error the user sees at once,
never silence: ``@`` inside backticks is not a mention, so ``@pytest.fixture`` can be quoted.

Attachments share ``agent.attachmentMaxChars``: small ones whole, large ones cut on a line
boundary with a note telling the model what was left out and how to read it.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from devfactory.protocol.context import ContextItem, Range
from devfactory.storage.ports import ChunkRow

from ..safefs import FileTooLarge, PathRefused, SafeTree, shown

MENTION = re.compile(r"(?<![\w@/`])@([\w.~/][\w./~-]*)")
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.S)
MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024
"""Larger files are not read at all: the user attaches a selection of them."""
SYMBOL_MATCHES = 3
"""A symbol defined in several places attaches this many definitions at most."""


class AttachmentError(ValueError):
    """A mention or a context item that cannot be attached; the message says how to fix it."""


@dataclass(frozen=True)
class SymbolDefinition:
    name: str
    path: str
    start_line: int
    end_line: int


ReadText = Callable[[str], Awaitable[str | None]]
"""The text of a workspace-relative path as the user sees it (None: no such file); raises
AttachmentError for a path the resolver refuses."""
FindSymbol = Callable[[str], Awaitable[list[SymbolDefinition]]]
"""The definitions the index knows by this name (exact, or qualified ``module.name``)."""
IndexSymbols = Callable[[str, int], Awaitable[list[ChunkRow]]]
"""The index's definitions whose name contains a query (``IndexService.symbols``)."""


def symbol_finder(symbols: IndexSymbols | None) -> FindSymbol:
    """``@symbol`` lookups through the index: a definition named exactly so, or whose
    qualified name ends with it (``@calc.add``); none without an index."""

    async def find(name: str) -> list[SymbolDefinition]:
        if symbols is None:
            return []
        short = name.rsplit(".", 1)[-1]
        return [
            SymbolDefinition(
                row.symbol or row.name or short, row.path, row.start_line, row.end_line
            )
            for row in await symbols(short, 50)
            if row.name == name
            or row.symbol == name
            or (row.name == short and (row.symbol or "").endswith(name))
        ]

    return find


@dataclass(frozen=True)
class Attachment:
    kind: str
    """file, selection, diagnostics or symbol."""
    path: str
    text: str
    start_line: int = 1
    """1-based first line of ``text`` in the file."""
    end_line: int | None = None
    note: str = ""
    """Why it is attached (``@calc.add``, ``selected in the editor``)."""
    original_chars: int = 0
    truncated: bool = False

    @property
    def label(self) -> str:
        lines = f":{self.start_line}-{self.end_line}" if self.end_line else ""
        return f"{self.path}{lines}"


def mentions(prompt: str) -> list[str]:
    """The ``@names`` of a prompt, in order and once each; code spans are left out."""
    plain = _CODE.sub(lambda m: " " * len(m.group(0)), prompt)
    found = [m.group(1).rstrip(".,;:!?)") for m in MENTION.finditer(plain)]
    return list(dict.fromkeys(name for name in found if name))


def relative_path(uri: str, root: Path) -> str:
    """The workspace-relative path of a ``file://`` URI (or of a relative path)."""
    if not uri.startswith("file:"):
        return uri
    path = unquote(urlparse(uri).path)
    for base in (str(root), os.path.realpath(root)):
        rel = os.path.relpath(os.path.normpath(path), base)
        if rel != ".." and not rel.startswith("../"):
            return rel.replace(os.sep, "/")
    raise AttachmentError(f"{uri} is outside the workspace {root}; attach files of the project")


def workspace_reader(
    root: Path, open_text: Callable[[str], str | None] = lambda rel: None
) -> ReadText:
    """Reads workspace files through the resolver: an open editor buffer's text first (what
    the user sees), else the file on disk; links out, ``.git`` and binaries are refused."""
    tree = SafeTree(root)

    async def read(rel: str) -> str | None:
        try:
            clean = tree.resolve(rel)
            if (text := open_text(clean)) is not None:
                return text
            data = await asyncio.to_thread(tree.read, clean, MAX_ATTACHMENT_BYTES)
        except PathRefused as exc:
            raise AttachmentError(f"refused: {exc}") from None
        except FileTooLarge as exc:
            raise AttachmentError(f"{exc}; attach a selection of it instead") from None
        if data is None:
            return None
        if b"\0" in data[:8192]:
            raise AttachmentError(f"{shown(clean)} is a binary file; attach text files")
        return data.decode("utf-8", "replace")

    return read


async def resolve_mention(name: str, read: ReadText, find: FindSymbol) -> list[Attachment]:
    """The file or the symbol definitions ``@name`` stands for."""
    try:
        text = await read(name)
    except AttachmentError as exc:
        raise AttachmentError(f"@{shown(name)}: {exc}") from None
    if text is not None:
        return [Attachment("file", name, text, note=f"@{name}", original_chars=len(text))]
    found: list[Attachment] = []
    for definition in (await find(name))[:SYMBOL_MATCHES]:
        body = await read(definition.path)
        if body is None:
            continue
        lines = body.splitlines(keepends=True)[definition.start_line - 1 : definition.end_line]
        found.append(
            Attachment(
                "symbol",
                definition.path,
                "".join(lines),
                definition.start_line,
                definition.end_line,
                note=f"@{name}: {definition.name}",
                original_chars=len("".join(lines)),
            )
        )
    if not found:
        raise AttachmentError(
            f"@{name}: no file or symbol of that name in the workspace; write a path relative "
            "to the project root (@src/app.py) or a symbol the index knows (@parse_url), or "
            "put it in backticks if it is not a mention"
        )
    return found


async def resolve_item(item: ContextItem, root: Path, read: ReadText) -> list[Attachment]:
    """A context item from the editor: the file, the selected lines, and its problems."""
    path = relative_path(item.uri, root)
    try:
        text = await read(path)
    except AttachmentError as exc:
        raise AttachmentError(f"context: {shown(path)}: {exc}") from None
    if text is None:
        raise AttachmentError(f"context: {path} does not exist in the workspace")
    found: list[Attachment] = []
    lines = text.splitlines(keepends=True)
    if item.range is not None:
        first, last = _line_span(item.range, len(lines))
        chosen = "".join(lines[first - 1 : last])
        found.append(
            Attachment(
                "selection",
                path,
                chosen,
                first,
                last,
                note="selected in the editor",
                original_chars=len(chosen),
            )
        )
    elif not item.diagnostics:
        found.append(
            Attachment("file", path, text, note="open in the editor", original_chars=len(text))
        )
    if item.diagnostics:
        problems = "".join(
            f"- line {d.range.start.line + 1}: {d.severity}"
            f"{f' ({d.source})' if d.source else ''}: {d.message}\n"
            f"    {lines[d.range.start.line].rstrip() if d.range.start.line < len(lines) else ''}\n"
            for d in item.diagnostics
        )
        found.append(
            Attachment(
                "diagnostics",
                path,
                problems,
                note="problems the editor shows",
                original_chars=len(problems),
            )
        )
    return found


def _line_span(span: Range, count: int) -> tuple[int, int]:
    """1-based first and last line of an LSP range (an end at column 0 ends the line before)."""
    first = span.start.line + 1
    last = span.end.line + (0 if span.end.character == 0 and span.end.line > span.start.line else 1)
    first = min(max(first, 1), max(count, 1))
    return first, min(max(last, first), max(count, 1))


async def resolve_all(
    prompt: str,
    items: list[ContextItem],
    root: Path,
    read: ReadText,
    find: FindSymbol,
    budget: int,
) -> list[Attachment]:
    """Everything a message attaches (its context items, then its mentions), each once, cut
    to ``budget``; AttachmentError names the first item or mention that cannot be attached."""
    found: list[Attachment] = []
    for item in items:
        found += await resolve_item(item, root, read)
    for name in mentions(prompt):
        found += await resolve_mention(name, read, find)
    unique = {(a.kind, a.path, a.start_line, a.end_line): a for a in found}
    return fit(list(unique.values()), budget)


def fit(attachments: list[Attachment], budget: int) -> list[Attachment]:
    """Cut the attachments to ``budget`` characters in all: the smallest are kept whole and
    the rest share what is left equally; a cut ends on a line boundary."""
    allowed: dict[int, int] = {}
    left = budget
    order = sorted(range(len(attachments)), key=lambda i: len(attachments[i].text))
    for position, index in enumerate(order):
        share = left // (len(order) - position)
        allowed[index] = min(len(attachments[index].text), share)
        left -= allowed[index]
    return [_cut(a, allowed[i]) for i, a in enumerate(attachments)]


def _cut(attachment: Attachment, limit: int) -> Attachment:
    if len(attachment.text) <= limit:
        return attachment
    kept = attachment.text[:limit]
    if "\n" in kept:
        kept = kept[: kept.rindex("\n") + 1]
    shown = kept.count("\n")
    last = attachment.start_line + shown - 1
    note = (
        f"[DevFactory cut this attachment to fit agent.attachmentMaxChars: lines "
        f"{attachment.start_line}-{last} are shown, {len(attachment.text) - len(kept)} of "
        f"{len(attachment.text)} characters are not; read the rest with read_file]\n"
    )
    return replace(attachment, text=kept + note, truncated=True)


def render(attachments: list[Attachment]) -> str:
    """The attachments as a section of the user's message."""
    if not attachments:
        return ""
    parts = ["# Attached context"]
    for a in attachments:
        fence = "`" * max(3, _longest_backticks(a.text) + 1)
        body = a.text if a.text.endswith("\n") else a.text + "\n"
        parts.append(f"## {a.label} ({a.note})\n{fence}\n{body}{fence}")
    return "\n\n".join(parts)


def _longest_backticks(text: str) -> int:
    return max((len(m.group(0)) for m in re.finditer(r"`+", text)), default=0)
