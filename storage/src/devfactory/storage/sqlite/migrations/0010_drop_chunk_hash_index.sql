-- Nothing looks chunks up by their content hash (the reuse of equal chunks' embeddings it was
-- made for never came), and keeping its random keys in order was half the CPU of writing chunk
-- rows: a cold index of Django writes ~0.8 s less without it.
DROP INDEX IF EXISTS rag_chunks_hash;
