-- Whole-file lexical index: each file's words (its chunks' content and camelCase sub-tokens,
-- split as the chunks' column is), so files can be ranked by all their text beside the chunks.
-- Files indexed before it have none: they are marked changed, so the next index pass writes
-- them again with it.
ALTER TABLE rag_files ADD COLUMN search TSVECTOR NOT NULL DEFAULT ''::tsvector;
CREATE INDEX rag_files_search ON rag_files USING gin (search);
UPDATE rag_files SET size = -1, content_hash = '' WHERE skip_reason IS NULL;
