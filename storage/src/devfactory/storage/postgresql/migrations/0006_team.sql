-- Team mode: API tokens (only their SHA-256), the audit of ability checks, and provider keys
-- stored for the team (ciphertext only; the key that opens them never reaches the database).
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    hint TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    abilities JSONB NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    token_id BIGINT REFERENCES api_tokens (id),
    token_name TEXT NOT NULL,
    method TEXT NOT NULL,
    ability TEXT NOT NULL,
    allowed BOOLEAN NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE team_keys (
    provider TEXT PRIMARY KEY,
    ciphertext BYTEA NOT NULL,
    updated_at TEXT NOT NULL
);
