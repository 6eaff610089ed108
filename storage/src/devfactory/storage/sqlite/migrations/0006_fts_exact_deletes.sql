-- BM25 statistics that count only live chunks. With contentless_delete=1 a DELETE by rowid
-- leaves the deleted row in FTS5's totals (the row count and the column sizes BM25 normalises
-- by), so every re-indexed file added to them for good and an index that followed a working
-- tree ranked differently from a fresh one. A plain contentless table is told what to take out:
-- the trigger hands FTS5 the deleted chunk's own text, which rag_chunks now keeps (the symbol
-- words and camelCase sub-tokens were computed by the indexer and stored nowhere before).
ALTER TABLE rag_chunks ADD COLUMN symbol_terms TEXT NOT NULL DEFAULT '';
ALTER TABLE rag_chunks ADD COLUMN subtokens TEXT NOT NULL DEFAULT '';

DROP TRIGGER rag_chunks_deleted;
DROP TABLE rag_chunks_fts;
CREATE VIRTUAL TABLE rag_chunks_fts USING fts5 (
    content,
    symbol,
    path,
    subtokens,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER rag_chunks_deleted AFTER DELETE ON rag_chunks BEGIN
    INSERT INTO rag_chunks_fts (rag_chunks_fts, rowid, content, symbol, path, subtokens)
        VALUES ('delete', old.id, old.content, old.symbol_terms, old.path, old.subtokens);
    DELETE FROM rag_chunk_vectors WHERE rowid = old.id;
END;

-- Existing chunks go back into the new table with the text they have (content and path; no
-- symbol words or sub-tokens, which were never stored), and every file is marked changed, so
-- the next index pass re-chunks it with the full text.
INSERT INTO rag_chunks_fts (rowid, content, symbol, path, subtokens)
    SELECT id, content, symbol_terms, path, subtokens FROM rag_chunks;
UPDATE rag_files SET size = -1, content_hash = '';
