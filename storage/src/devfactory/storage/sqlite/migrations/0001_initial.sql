-- The whole domain. Timestamps are ISO 8601 UTC text; JSON columns hold msgspec-encoded data.

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    slug            TEXT NOT NULL,
    root_path       TEXT NOT NULL UNIQUE,
    default_branch  TEXT,
    current_branch  TEXT,
    languages       TEXT NOT NULL DEFAULT '[]',
    frameworks      TEXT NOT NULL DEFAULT '[]',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE provider_accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT NOT NULL,
    name            TEXT NOT NULL,
    api_key_env     TEXT,              -- name of the variable holding the key; never the key
    base_url        TEXT,
    exhausted_until TEXT,
    last_used_at    TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (provider, name)
);

CREATE TABLE snapshots (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id          INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    type            TEXT NOT NULL CHECK (type IN ('pre_run','pre_command','pre_apply','manual','final')),
    description     TEXT NOT NULL DEFAULT '',
    ref             TEXT NOT NULL,
    commit_sha      TEXT NOT NULL,
    tree_sha        TEXT NOT NULL,
    files_changed   INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE INDEX snapshots_project ON snapshots (project_id, id);
CREATE INDEX snapshots_run ON snapshots (run_id);

CREATE TABLE agent_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    prompt          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft','queued','running','paused',
                        'waiting_for_user','completed','failed','cancelled')),
    agent           TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT,
    mode            TEXT NOT NULL DEFAULT 'review' CHECK (mode IN ('review','yolo')),
    branch_name     TEXT,
    worktree_path   TEXT,
    base_snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,
    retry_of        INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    current_step    INTEGER NOT NULL DEFAULT 0,
    queued_at       TEXT,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    completed_at    TEXT,
    failed_reason   TEXT,
    owner           TEXT,                -- lock file of the daemon driving it (crash recovery)
    metadata        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX agent_runs_project_status ON agent_runs (project_id, status);

CREATE TABLE agent_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,   -- only grows: clients replay with since
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id          INTEGER REFERENCES agent_runs(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('info','success','warning','error','debug')),
    title           TEXT NOT NULL,
    message         TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL
);
CREATE INDEX agent_events_run ON agent_events (run_id, id);
CREATE INDEX agent_events_project_time ON agent_events (project_id, created_at);

CREATE TABLE workspace_files (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id          INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    path            TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('create','update','delete')),
    status          TEXT NOT NULL CHECK (status IN ('proposed','approved','rejected','applied',
                        'conflict','stale')),
    before_hash     TEXT,
    after_hash      TEXT,
    diff            TEXT,                -- inline when small; otherwise diff_path
    diff_path       TEXT,
    hunks           TEXT NOT NULL DEFAULT '[]',
    event_id        INTEGER REFERENCES agent_events(id) ON DELETE SET NULL,
    reason          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    applied_at      TEXT
);
CREATE INDEX workspace_files_run ON workspace_files (run_id);
CREATE INDEX workspace_files_project_path ON workspace_files (project_id, path);

CREATE TABLE command_executions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id          INTEGER REFERENCES agent_runs(id) ON DELETE CASCADE,
    command         TEXT NOT NULL,
    args            TEXT NOT NULL DEFAULT '[]',
    working_dir     TEXT NOT NULL,
    timeout_s       REAL NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    exit_code       INTEGER,
    stdout_path     TEXT,
    stderr_path     TEXT,
    was_killed      INTEGER NOT NULL DEFAULT 0,
    was_blocked     INTEGER NOT NULL DEFAULT 0,
    block_reason    TEXT,
    sandboxed       INTEGER NOT NULL DEFAULT 0,
    test_framework  TEXT,
    test_counts     TEXT,
    output_tail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX command_executions_run ON command_executions (run_id, started_at);

CREATE TABLE git_operations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id          INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    operation       TEXT NOT NULL,
    args            TEXT NOT NULL DEFAULT '[]',
    exit_code       INTEGER NOT NULL,
    stdout          TEXT NOT NULL DEFAULT '',
    stderr          TEXT NOT NULL DEFAULT '',
    duration_ms     REAL NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX git_operations_project ON git_operations (project_id, id);
CREATE INDEX git_operations_run ON git_operations (run_id, id);

CREATE TABLE documentation_updates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    run_id          INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    path            TEXT NOT NULL,
    kind            TEXT NOT NULL,        -- project_map, changelog, ...
    summary         TEXT NOT NULL DEFAULT '',
    change_id       INTEGER REFERENCES workspace_files(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE run_reviews (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    decision        TEXT NOT NULL CHECK (decision IN ('approved','rejected','commented')),
    notes           TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE INDEX run_reviews_run ON run_reviews (run_id, id);

CREATE TABLE review_comments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    change_id       INTEGER NOT NULL REFERENCES workspace_files(id) ON DELETE CASCADE,
    line            INTEGER NOT NULL,
    body            TEXT NOT NULL,
    resolved        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE INDEX review_comments_run ON review_comments (run_id, resolved);

CREATE TABLE hitl_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    question        TEXT NOT NULL,
    choices         TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','answered','cancelled')),
    response_action TEXT,
    response_text   TEXT,
    tool_call_id    TEXT,
    created_at      TEXT NOT NULL,
    answered_at     TEXT
);
CREATE INDEX hitl_requests_run ON hitl_requests (run_id, status);

CREATE TABLE context_artifacts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('spec','plan','code','log')),
    name            TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX context_artifacts_run ON context_artifacts (run_id, kind);

CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES agent_runs(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    title           TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','in_progress','done','blocked')),
    agent           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX tasks_run ON tasks (run_id, position);

CREATE TABLE task_dependencies (
    task_id         INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    depends_on_id   INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, depends_on_id),
    CHECK (task_id != depends_on_id)
);

-- Workspace index (devfactory.server.index). One row per discovered file, including files that
-- were skipped (binary, minified, too large, undecodable) so an unchanged skip is not re-read.
CREATE TABLE rag_files (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path            TEXT NOT NULL,
    language        TEXT,
    source_type     TEXT NOT NULL DEFAULT 'code' CHECK (source_type IN ('code','doc','config')),
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    content_hash    TEXT NOT NULL,
    skip_reason     TEXT,                 -- binary, minified, too_large, undecodable, unreadable
    indexed_at      TEXT NOT NULL,
    UNIQUE (project_id, path)
);

-- Chunks: a definition (function, class, method...) or a window of lines. Ids are never reused
-- (a vector computed for a deleted chunk must not land on a new one); the FTS and vector rows
-- share the chunk id as rowid and are removed by the trigger.
CREATE TABLE rag_chunks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    file_id         INTEGER NOT NULL REFERENCES rag_files(id) ON DELETE CASCADE,
    path            TEXT NOT NULL,
    language        TEXT,
    symbol          TEXT,                 -- module.Class.method
    name            TEXT,                 -- method (the last part of symbol), for workspace/symbol
    kind            TEXT,
    start_line      INTEGER NOT NULL,
    end_line        INTEGER NOT NULL,
    content         TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    source_type     TEXT NOT NULL DEFAULT 'code' CHECK (source_type IN ('code','doc','config')),
    embedded        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rag_chunks_file ON rag_chunks (file_id);
CREATE INDEX rag_chunks_project_source ON rag_chunks (project_id, source_type);
CREATE INDEX rag_chunks_hash ON rag_chunks (content_hash);  -- reuse embeddings of equal chunks
CREATE INDEX rag_chunks_pending ON rag_chunks (project_id, embedded);
CREATE INDEX rag_chunks_name ON rag_chunks (project_id, name COLLATE NOCASE) WHERE name IS NOT NULL;

-- Lexical index (contentless: the text lives in rag_chunks). unicode61 splits snake_case by
-- itself; subtokens holds the parts of camelCase identifiers (parseUrl -> parse url).
CREATE VIRTUAL TABLE rag_chunks_fts USING fts5 (
    content,
    symbol,
    path,
    subtokens,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Semantic index: one vector per embedded chunk (rowid = rag_chunks.id), 256-d for the bundled
-- embedder. Another embedder with another dimension recreates this table (devfactory.server.index).
CREATE VIRTUAL TABLE rag_chunk_vectors USING vec0 (
    embedding float[256] distance_metric=cosine
);

CREATE TRIGGER rag_chunks_deleted AFTER DELETE ON rag_chunks BEGIN
    DELETE FROM rag_chunks_fts WHERE rowid = old.id;
    DELETE FROM rag_chunk_vectors WHERE rowid = old.id;
END;

-- Index state per project: the embedder the vectors were made with, when the index last ran.
CREATE TABLE rag_meta (
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    value           TEXT NOT NULL,
    PRIMARY KEY (project_id, key)
);

CREATE TABLE settings (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
