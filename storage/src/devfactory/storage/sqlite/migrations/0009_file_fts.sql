-- Whole-file lexical index: one FTS5 row per file (rowid = rag_files.id), so BM25 can rank
-- files by all their text, with its own length normalisation and document frequencies, beside
-- the chunks' table. A file's text is its chunks' content and camelCase sub-tokens in chunk
-- order (what the indexer wrote for them), so the table is contentless and nothing is stored
-- twice: the delete trigger rebuilds the text from the chunks before they cascade away and
-- hands it to FTS5, which takes the file out of BM25's statistics exactly (see 0006).
CREATE VIRTUAL TABLE rag_files_fts USING fts5 (
    content,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The chunks are concatenated from a subquery in id order, not with group_concat(... ORDER
-- BY): that form needs SQLite 3.44, and the schema must stay readable by older sqlite3 tools
-- (Debian's 3.40 cannot even open a database whose schema holds it).
CREATE TRIGGER rag_files_deleted BEFORE DELETE ON rag_files BEGIN
    INSERT INTO rag_files_fts (rag_files_fts, rowid, content)
        SELECT 'delete', old.id, group_concat(text, char(10))
        FROM (
            SELECT content || char(10) || subtokens AS text FROM rag_chunks
            WHERE file_id = old.id ORDER BY id
        )
        HAVING count(*) > 0;
END;

-- A project's files go before its chunks would cascade away on their own (the file trigger
-- needs them).
CREATE TRIGGER projects_deleted_rag_files BEFORE DELETE ON projects BEGIN
    DELETE FROM rag_files WHERE project_id = old.id;
END;

INSERT INTO rag_files_fts (rowid, content)
    SELECT f.id, (
        SELECT group_concat(text, char(10)) FROM (
            SELECT content || char(10) || subtokens AS text FROM rag_chunks
            WHERE file_id = f.id ORDER BY id
        )
    ) AS text
    FROM rag_files f WHERE text IS NOT NULL;
