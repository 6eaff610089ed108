"""Ranking files, and the chunks under them, from the lexical and semantic candidate lists.

What a search is asked most ("where is this done", "which files does this change touch") is
answered by files, so files are ranked first and chunks follow their file:

1. each chunk gets a weight: more when the query names its symbol, less for tests (unless the
   query asks for tests);
2. lexical evidence of a file: its best chunks' BM25 scores (relative to the best chunk of the
   whole list), each weighted, summed with a decay (the best counts fully, the next ones
   less), so a file that matches in several places beats one lucky window, and a file with
   dozens of weak matches does not beat one strong definition;
3. semantic evidence of a file: its nearest chunk's similarity, weighted;
4. whole-file evidence of a code file (not a test; tests and docs only when the query asks for
   them, docs not for the changelog): its own BM25 over all its text (one document per file,
   with BM25's length normalisation across files), so a small module that is about the query
   is not buried under big modules that mention it in many places (docs, config and tests are
   ranked by their chunks alone: whole, they rank high for the wrong reasons, a changelog for
   every word of a commit message);
5. reciprocal-rank fusion of the three file rankings, semantic at a small weight (the
   bundled embedder is a weaker ranker than BM25 on code: docs/benchmarks.md);
6. the file's kind: docs rank lower for a request that reads like a change to the code (unless
   the query asks for docs), changelogs and news fragments always (unless asked for), vendored
   code (``typeshed/``, ``_vendor/``) a little.

A chunk's final score is its file's score times its strength relative to the file's best chunk
(strength: its weighted BM25 relative to the list's best, plus its weighted similarity at the
semantic weight), so the first chunk of each file comes in file order and a file's other
chunks interleave below it as far as they are weaker.
The constants were tuned on the retrieval benchmark (bench/retrieval, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from devfactory.storage.ports import ChunkRow, FileMatch

from .discovery import looks_like_changelog, looks_like_test, looks_vendored
from .ranking import QueryTraits

FILE_RRF_K = 10
"""Reciprocal-rank constant for fusing the file rankings: small, so the first files of
each list count much more than the tenth."""
LEXICAL_WEIGHT = 1.0
SEMANTIC_WEIGHT = 0.1
"""Of a file's rank by nearest chunk; the bundled 256-d WordLlama model breaks ties and finds
paraphrases, it does not lead (a sweep of 0-1 on the benchmark: 0.05-0.15 best)."""
WHOLE_FILE_WEIGHT = 0.5
"""Of a code file's rank by its whole-file BM25: a second lexical opinion, at half the
chunks' (0.35 ranks a little better overall on the benchmark, 0.5 keeps every repository
ahead of whole-file BM25 there: docs/benchmarks.md)."""
CHUNK_DECAY = 0.3
"""A file's n-th best lexical chunk counts CHUNK_DECAY ** n of its score."""
CHUNKS_PER_FILE = 5
"""Lexical chunks that add to a file's evidence."""
SYMBOL_BOOST = 0.5
"""Extra share of its score a chunk gets when its name is what the query names."""
TEST_PENALTY = 0.5
DOC_PENALTY = 0.5
"""For documentation when the query reads like a change to the code."""
CHANGELOG_PENALTY = 0.5
"""For changelogs, release notes and news fragments, unless the query asks for them (on top
of DOC_PENALTY when that applies)."""
VENDORED_PENALTY = 0.5


@dataclass
class RankedFile:
    path: str
    score: float = 0.0
    chunks: list[tuple[ChunkRow, float]] = field(default_factory=list)
    """(chunk, final score), best first."""

    @property
    def first(self) -> ChunkRow:
        return self.chunks[0][0]


def chunk_weight(row: ChunkRow, traits: QueryTraits) -> float:
    """How much a chunk's own match counts: its symbol named, or a test not asked for."""
    weight = 1.0
    if traits.names_symbol(row.name):
        weight *= 1 + SYMBOL_BOOST
    if not traits.wants_tests and looks_like_test(row.path):
        weight *= TEST_PENALTY
    return weight


def file_prior(path: str, source_type: str, traits: QueryTraits) -> float:
    """How much a file's kind counts for this query (1.0: not at all)."""
    prior = 1.0
    if source_type != "code":
        if traits.changes_code:
            prior *= DOC_PENALTY
        if not traits.wants_changelog and looks_like_changelog(path):
            prior *= CHANGELOG_PENALTY
    if looks_vendored(path):
        prior *= VENDORED_PENALTY
    return prior


def rank_files(
    lexical: Sequence[ChunkRow],
    semantic: Sequence[ChunkRow],
    traits: QueryTraits,
    whole_files: Sequence[FileMatch] = (),
) -> list[RankedFile]:
    """Files best first, each with its chunks best first.

    ``lexical`` holds BM25 scores (negative, best first), ``semantic`` cosine distances
    (best first), ``whole_files`` whole-file BM25 scores (negative); any may be empty (a
    lexical or semantic search). Only files with a chunk among the candidates are ranked.
    """
    rows: dict[int, ChunkRow] = {}
    weights: dict[int, float] = {}
    for row in (*lexical, *semantic):
        if row.id not in rows:
            rows[row.id] = row
            weights[row.id] = chunk_weight(row, traits)
    lexical_strength = _lexical_strength(lexical, weights)
    semantic_strength = {row.id: max(0.0, 1.0 - row.score) * weights[row.id] for row in semantic}
    file_scores: dict[str, float] = {}
    for weight, evidence in (
        (LEXICAL_WEIGHT, _lexical_evidence(lexical, lexical_strength)),
        (SEMANTIC_WEIGHT, _semantic_evidence(semantic, semantic_strength)),
        (WHOLE_FILE_WEIGHT, _whole_file_evidence(whole_files, traits)),
    ):
        ordered = sorted(evidence, key=lambda path: (-evidence[path], path))
        for rank, path in enumerate(ordered, start=1):
            file_scores[path] = file_scores.get(path, 0.0) + weight / (FILE_RRF_K + rank)
    strength = {
        chunk_id: LEXICAL_WEIGHT * lexical_strength.get(chunk_id, 0.0)
        + SEMANTIC_WEIGHT * semantic_strength.get(chunk_id, 0.0)
        for chunk_id in rows
    }
    files: dict[str, RankedFile] = {}
    for chunk_id in sorted(rows, key=lambda i: (-strength[i], rows[i].path, rows[i].start_line)):
        row = rows[chunk_id]
        ranked = files.get(row.path)
        if ranked is None:
            prior = file_prior(row.path, row.source_type, traits)
            ranked = files[row.path] = RankedFile(row.path, file_scores[row.path] * prior)
        best = strength[ranked.first.id] if ranked.chunks else strength[chunk_id]
        share = strength[chunk_id] / best if best > 0 else 1.0
        ranked.chunks.append((row, ranked.score * share))
    return sorted(files.values(), key=lambda f: (-f.score, f.path))


def ranked_chunks(files: Sequence[RankedFile]) -> list[tuple[ChunkRow, float]]:
    """Every chunk of the ranked files, best first: each file's first chunk in file order."""
    chunks = [chunk for ranked in files for chunk in ranked.chunks]
    chunks.sort(key=lambda item: (-item[1], item[0].path, item[0].start_line))
    return chunks


def _lexical_strength(lexical: Sequence[ChunkRow], weights: dict[int, float]) -> dict[int, float]:
    """Chunk id -> its BM25 relative to the list's best chunk (1.0 for the best), weighted."""
    if not lexical:
        return {}
    top = min(row.score for row in lexical) or -1.0  # BM25 here is negative: lower is better
    return {row.id: row.score / top * weights[row.id] for row in lexical}


def _lexical_evidence(lexical: Sequence[ChunkRow], strength: dict[int, float]) -> dict[str, float]:
    """Path -> decayed sum of its best chunks' lexical strength."""
    per_file: dict[str, list[float]] = {}
    for row in lexical:
        per_file.setdefault(row.path, []).append(strength[row.id])
    evidence = {}
    for path, scores in per_file.items():
        scores.sort(reverse=True)
        evidence[path] = sum(
            score * CHUNK_DECAY**index for index, score in enumerate(scores[:CHUNKS_PER_FILE])
        )
    return evidence


def _whole_file_evidence(files: Sequence[FileMatch], traits: QueryTraits) -> dict[str, float]:
    """Path -> its whole-file BM25, for code that is not a test (and for tests or docs when
    the query asks for them)."""
    return {match.path: -match.score for match in files if _whole_file_counts(match, traits)}


def _whole_file_counts(match: FileMatch, traits: QueryTraits) -> bool:
    if looks_like_test(match.path):
        return traits.wants_tests
    if match.source_type == "doc":  # a changelog query asks for entries, which chunks find
        return traits.wants_docs and not traits.wants_changelog
    return match.source_type == "code"


def _semantic_evidence(
    semantic: Sequence[ChunkRow], strength: dict[int, float]
) -> dict[str, float]:
    """Path -> its nearest chunk's similarity, weighted."""
    evidence: dict[str, float] = {}
    for row in semantic:
        evidence[row.path] = max(evidence.get(row.path, 0.0), strength[row.id])
    return evidence
