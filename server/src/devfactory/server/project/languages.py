"""Language of a file by its name, and the language mix of a workspace."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from devfactory.protocol.project import LanguageStat

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".php": "php",
    ".swift": "swift",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".kt": "kotlin",
    ".rb": "ruby",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".lua": "lua",
    ".sh": "shell",
    ".bash": "shell",
    ".sql": "sql",
    ".html": "html",
    ".css": "css",
    ".scss": "css",
    ".vue": "vue",
    ".md": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".xml": "xml",
}

#: Languages that describe data or prose rather than the code a project is written in.
NON_CODE = frozenset({"markdown", "rst", "text", "json", "toml", "yaml", "xml"})


def language_of(path: str | PurePosixPath) -> str | None:
    """The language of a file from its extension (or name, for a few well-known files)."""
    name = PurePosixPath(path).name
    if name in ("Dockerfile", "Makefile"):
        return name.lower()
    if name.endswith(".blade.php"):
        return "php"
    return EXTENSIONS.get(PurePosixPath(name).suffix.lower())


def language_stats(root: Path, files: Iterable[str]) -> list[LanguageStat]:
    """Files and bytes per language, largest code language first, data/prose last."""
    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for rel in files:
        language = language_of(rel)
        if language is None:
            continue
        try:
            size = os.stat(root / rel).st_size
        except OSError:
            continue
        counts[language] += 1
        sizes[language] += size
    order = sorted(counts, key=lambda lang: (lang in NON_CODE, -sizes[lang], lang))
    return [LanguageStat(language=lang, files=counts[lang], bytes=sizes[lang]) for lang in order]
