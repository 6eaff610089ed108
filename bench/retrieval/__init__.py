"""File localization: given a commit message, find the files the commit changed.

Tasks are mined from the history of public repositories (``mine``): a non-merge commit that
modifies one to three non-test source files becomes a query (its cleaned message), an answer
(those files) and a corpus (the tree at its parent). ``run`` replays them against whole-file
BM25, ripgrep-style term counting and DevFactory's own index (lexical, semantic, hybrid) and
scores file-level recall@k and MRR. See docs/benchmarks.md, "Retrieval: file localization".

Run with ``uv run python -m bench.retrieval mine|run`` (it is not part of ``python -m bench``:
it needs repositories fetched onto the machine first).
"""
