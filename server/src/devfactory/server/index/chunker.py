"""Splitting a file into chunks: definitions for code, windows of lines for everything else.

Python's definitions are read from its lines (``python_outline``), other code is parsed with
tree-sitter (and Python the outline cannot be sure of); every definition (function, class,
method...) becomes a chunk named by its symbol path (``module.Class.method``). A definition's
own lines exclude its nested definitions, which are chunks of their own; what lies between
definitions (imports, constants) becomes ``module`` chunks. Long pieces are cut into
overlapping windows so no chunk is huge.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from tree_sitter import QueryCursor

from devfactory.storage.ports import NewChunk

from .grammars import CONTAINER_KINDS, Grammar, grammar_for
from .python_outline import FoundDefinition, python_definitions
from .subtokens import camel_subtokens, symbol_tokens

MAX_CHUNK_LINES = 150
WINDOW_LINES = 100
WINDOW_OVERLAP = 15
TEXT_WINDOW_LINES = 50
TEXT_WINDOW_OVERLAP = 10

_HAS_WORD = re.compile(r"\w")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass
class _Definition:
    start: int
    end: int
    """0-based rows, inclusive."""
    symbol: str
    name: str
    kind: str
    children: list[_Definition]


def module_name(path: str) -> str:
    """``src/app/models/user.py`` -> ``app.models.user``; ``pkg/__init__.py`` -> ``pkg``."""
    pure = PurePosixPath(path)
    parts = list(pure.with_suffix("").parts)
    if len(parts) > 1 and parts[0] in ("src", "lib"):
        parts = parts[1:]
    index_names = ("__init__", "index", "mod") if pure.suffix == ".rs" else ("__init__", "index")
    if len(parts) > 1 and parts[-1] in index_names:
        parts = parts[:-1]
    return ".".join(parts)


def chunk_file(path: str, language: str | None, text: str) -> list[NewChunk]:
    """The chunks of one file's text."""
    lines = text.split("\n")
    outline = python_definitions(text, lines) if language == "python" else None
    if outline is not None:
        found = [Spanned(d.start, d.end + 1, d) for d in outline]
    else:
        grammar = grammar_for(language)
        if grammar is None:
            return _text_chunks(lines, heading=language == "markdown")
        found = _parsed_definitions(text, grammar)
    module = module_name(path)
    chunks: list[NewChunk] = []
    root = _Definition(0, len(lines) - 1, module, "", "module", _nested(found, module))
    _emit(root, lines, chunks, is_root=True)
    chunks.sort(key=lambda c: (c.start_line, c.end_line))
    return chunks


class Spanned(NamedTuple):
    """A definition and where it lies, in any unit that orders and nests definitions: bytes
    for tree-sitter (two can share a row), rows for the Python outline."""

    start: int
    end: int
    """Exclusive."""
    definition: FoundDefinition


def _parsed_definitions(text: str, grammar: Grammar) -> list[Spanned]:
    """The definitions tree-sitter finds."""
    spec = grammar.spec
    root_node = grammar.parser.parse(text.encode("utf-8")).root_node
    found: dict[tuple[int, int], FoundDefinition] = {}
    for _, captures in QueryCursor(grammar.query).matches(root_node):
        node = captures["def"][0]
        name_node = captures["name"][0]
        kind = spec.kinds.get(node.type, "function")
        if kind == "class" and node.type == "class_declaration" and node.children:
            keyword = node.children[0].type
            kind = keyword if keyword in ("struct", "enum", "extension", "actor") else kind
        parent = node.parent
        if parent is not None and parent.type in spec.wrappers:
            node = parent
        start, end = node.start_point.row, node.end_point.row
        if node.end_point.column == 0 and end > start:
            end -= 1
        name = (name_node.text or b"").decode("utf-8", "replace")
        found.setdefault((node.start_byte, node.end_byte), FoundDefinition(start, end, name, kind))
    return [Spanned(*span, definition) for span, definition in found.items()]


def _nested(found: list[Spanned], module: str) -> list[_Definition]:
    """Definitions as a tree, named by symbol path; a function inside a class-like definition
    is a method."""
    top: list[_Definition] = []
    stack: list[tuple[int, _Definition]] = []  # (end of span, definition)
    for span_start, span_end, (start, end, name, kind) in sorted(
        found, key=lambda spanned: (spanned.start, -spanned.end)
    ):
        while stack and span_start >= stack[-1][0]:
            stack.pop()
        parent_def = stack[-1][1] if stack else None
        if parent_def is not None and kind == "function" and parent_def.kind in CONTAINER_KINDS:
            kind = "method"
        if parent_def is not None and parent_def.kind == "impl":
            kind = "method"
        prefix = parent_def.symbol if parent_def is not None else module
        definition = _Definition(start, end, f"{prefix}.{name}" if prefix else name, name, kind, [])
        (parent_def.children if parent_def is not None else top).append(definition)
        stack.append((span_end, definition))
    return top


def _emit(definition: _Definition, lines: list[str], out: list[NewChunk], *, is_root: bool) -> None:
    """Chunks for the lines a definition owns (not its children's), then its children."""
    segments: list[tuple[int, int]] = []
    cursor = definition.start
    for child in definition.children:
        if child.start > cursor:
            segments.append((cursor, child.start - 1))
        cursor = max(cursor, child.end + 1)
    if cursor <= definition.end:
        segments.append((cursor, definition.end))
    name = None if is_root else definition.name
    for index, (start, end) in enumerate(segments):
        is_header = not is_root and index == 0 and start == definition.start
        for window_start, window_end in _windows(start, end, MAX_CHUNK_LINES, WINDOW_LINES):
            content = "\n".join(lines[window_start : window_end + 1])
            if is_header or _HAS_WORD.search(content):
                out.append(
                    _chunk(content, window_start, definition.symbol, name, definition.kind, True)
                )
    for child in definition.children:
        _emit(child, lines, out, is_root=False)


def _windows(start: int, end: int, max_lines: int, size: int) -> list[tuple[int, int]]:
    if end - start + 1 <= max_lines:
        return [(start, end)]
    step = size - WINDOW_OVERLAP
    result = []
    position = start
    while True:
        stop = min(position + size - 1, end)
        result.append((position, stop))
        if stop >= end:
            return result
        position += step


def _text_chunks(lines: list[str], *, heading: bool) -> list[NewChunk]:
    """Overlapping windows of lines; Markdown windows are named after their section heading."""
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    if last < 0:
        return []
    headings: list[tuple[int, str]] = []
    if heading:
        headings = [
            (row, match.group(2))
            for row, line in enumerate(lines[: last + 1])
            if line.startswith("#") and (match := _MD_HEADING.match(line))
        ]
    chunks = []
    step = TEXT_WINDOW_LINES - TEXT_WINDOW_OVERLAP
    for start in range(0, last + 1, step):
        end = min(start + TEXT_WINDOW_LINES - 1, last)
        title = None
        for row, text in headings:
            if (row > start and title is not None) or row > end:
                break
            title = text
        content = "\n".join(lines[start : end + 1])
        chunks.append(_chunk(content, start, title, None, "section" if title else "text", False))
        if end >= last:
            break
    return chunks


def _chunk(
    content: str, start: int, symbol: str | None, name: str | None, kind: str, code: bool
) -> NewChunk:
    """A chunk of ``content`` starting at 0-based row ``start``."""
    return NewChunk(
        symbol=symbol or None,
        name=name,
        kind=kind,
        start_line=start + 1,
        end_line=start + content.count("\n") + 1,
        content=content,
        content_hash=hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest(),
        symbol_terms=symbol_tokens(symbol),
        subtokens=camel_subtokens(content) if code else "",
    )
