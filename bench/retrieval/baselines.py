"""The baselines: whole-file BM25 (``bm25s``) and ripgrep-style term counting.

Both rank the same candidates, the tree's source files (see :mod:`.files`), and read the same
tokens: every word split into its identifier parts the way DevFactory splits them
(``parseURL`` and ``parse_url`` both give ``parse``, ``url``), lower-cased, without
DevFactory's stopwords and one-character parts. Files are tokenized once per blob: a task's
tree shares most blobs with the previous task's.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from devfactory.server.index.subtokens import STOPWORDS, split_identifier

from .corpus import TreeEntry
from .files import is_source

#: Files each baseline returns, best first.
DEPTH = 50
_WORD = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Identifier parts, lower-cased, without stopwords and one-character parts."""
    return [
        part
        for word in _WORD.findall(text)
        for part in split_identifier(word)
        if len(part) > 1 and part not in STOPWORDS
    ]


def query_terms(query: str) -> list[str]:
    """The query's distinct tokens, in order."""
    return list(dict.fromkeys(tokenize(query)))


class SourceTokens:
    """Token counts of source files, kept per blob across the trees of one repository."""

    def __init__(self) -> None:
        self._by_blob: dict[str, Counter[str] | None] = {}

    def corpus(self, root: Path, tree: Mapping[str, TreeEntry]) -> dict[str, Counter[str]]:
        """Path -> token counts of the tree's source files (binary or undecodable ones left out)."""
        files = {}
        for path, entry in sorted(tree.items()):
            if entry.mode == "120000" or not is_source(path):
                continue
            if entry.blob not in self._by_blob:
                self._by_blob[entry.blob] = _read_counts(root / path)
            counts = self._by_blob[entry.blob]
            if counts is not None:
                files[path] = counts
        return files


def _read_counts(path: Path) -> Counter[str] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return Counter(tokenize(data.decode("utf-8")))
    except UnicodeDecodeError:
        return None


class WholeFileBM25:
    """BM25 (Lucene variant, k1 1.5, b 0.75: ``bm25s`` defaults) over whole files."""

    def __init__(self, files: Mapping[str, Counter[str]]) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on import
        self.paths = list(files)
        self._retriever = bm25s.BM25()
        self._retriever.index(
            [list(_expand(counts)) for counts in files.values()], show_progress=False
        )
        self._vocabulary = set(self._retriever.vocab_dict)

    def rank(self, query: str, depth: int = DEPTH) -> list[str]:
        import numpy as np

        terms = [term for term in query_terms(query) if term in self._vocabulary]
        if not terms or not self.paths:
            return []
        scores = self._retriever.get_scores(terms)
        order = np.argsort(-scores, kind="stable")[:depth]
        return [self.paths[i] for i in order if scores[i] > 0]


def _expand(counts: Counter[str]) -> Iterable[str]:
    for token, count in counts.items():
        yield from [token] * count


def term_count_rank(files: Mapping[str, Counter[str]], query: str, depth: int = DEPTH) -> list[str]:
    """Files by how often the query's terms occur in them (``rg -o -i`` counts), then path."""
    terms = query_terms(query)
    scored = []
    for path, counts in files.items():
        total = sum(counts[term] for term in terms)
        if total:
            scored.append((-total, path))
    scored.sort()
    return [path for _, path in scored[:depth]]
