-- FTS5 merges its segments as a pass writes them: with the default automerge of 4, a level's
-- segments are merged as soon as four of them exist, so a cold index of 245,840 chunks merged
-- the same postings again and again (its writes took 5.8x those of a quarter of it). Merging
-- at 16 segments a level wrote 4x Django in 0.80x the time, 1x Django in 0.91x, and searched
-- as fast (the statements' p95 and median moved less than between two runs): a query's cost
-- is scoring its matches, not the segments it reads them from (docs/benchmarks.md).
INSERT INTO rag_chunks_fts (rag_chunks_fts, rank) VALUES ('automerge', 16);
INSERT INTO rag_files_fts (rag_files_fts, rank) VALUES ('automerge', 16);
