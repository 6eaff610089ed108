-- The factory: initiatives planned into phases of dependent tasks, executed by runs, with the
-- typed handoffs, proposals, agent-to-agent questions, chats and phase review comments.

CREATE TABLE initiatives (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    goal            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active','pending_review','completed','archived')),
    mode            TEXT NOT NULL CHECK (mode IN ('yolo','review_per_phase')),
    branch          TEXT NOT NULL,
    base_snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE SET NULL,
    base_commit     TEXT,
    provider        TEXT,
    model           TEXT,
    result_run_id   INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    completed_at    TEXT
);
CREATE INDEX initiatives_project ON initiatives (project_id, status);

CREATE TABLE phases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    initiative_id   INTEGER NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    position        INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending','approved','in_progress',
                        'pending_review','completed','blocked')),
    depends_on      TEXT NOT NULL DEFAULT '[]',   -- phase ids
    base_commit     TEXT,
    revision        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX phases_initiative ON phases (initiative_id, position);

CREATE TABLE initiative_tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    initiative_id   INTEGER NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
    phase_id        INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
    parent_id       INTEGER REFERENCES initiative_tasks(id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL CHECK (type IN ('auto','checkpoint:human-verify',
                        'checkpoint:decision','checkpoint:human-action')),
    category        TEXT NOT NULL CHECK (category IN ('execute','research','discuss','plan',
                        'detail','refine','verify','merge','review')),
    priority        TEXT NOT NULL CHECK (priority IN ('low','medium','high')),
    status          TEXT NOT NULL CHECK (status IN ('pending','in_progress','completed',
                        'blocked','failed')),
    position        INTEGER NOT NULL,
    agent           TEXT NOT NULL,
    summary         TEXT,
    checkpoint      TEXT,                          -- JSON: question, choices, answer
    failed_reason   TEXT,
    merged_commit   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX initiative_tasks_initiative ON initiative_tasks (initiative_id, phase_id, position);

CREATE TABLE initiative_task_dependencies (
    task_id         INTEGER NOT NULL REFERENCES initiative_tasks(id) ON DELETE CASCADE,
    depends_on_id   INTEGER NOT NULL REFERENCES initiative_tasks(id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, depends_on_id),
    CHECK (task_id != depends_on_id)
);
CREATE INDEX initiative_task_dependents ON initiative_task_dependencies (depends_on_id);

-- The runs that executed each task. The orchestrator reads it when a run ends (also after a
-- crash, to pick up what the dead daemon's runs were doing); ``handled`` makes that once.
CREATE TABLE initiative_runs (
    run_id          INTEGER PRIMARY KEY REFERENCES agent_runs(id) ON DELETE CASCADE,
    initiative_id   INTEGER NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
    task_id         INTEGER NOT NULL REFERENCES initiative_tasks(id) ON DELETE CASCADE,
    handled         INTEGER NOT NULL DEFAULT 0     -- its end was acted on (merged, recorded)
);
CREATE INDEX initiative_runs_initiative ON initiative_runs (initiative_id, handled);
CREATE INDEX initiative_runs_task ON initiative_runs (task_id, run_id);

CREATE TABLE initiative_artifacts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    initiative_id   INTEGER NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
    task_id         INTEGER REFERENCES initiative_tasks(id) ON DELETE SET NULL,
    run_id          INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('spec','plan','code','log')),
    name            TEXT NOT NULL,
    source_role     TEXT NOT NULL,
    content         TEXT NOT NULL,                 -- JSON, valid against the schema ``name``
    created_at      TEXT NOT NULL
);
CREATE INDEX initiative_artifacts_initiative ON initiative_artifacts (initiative_id, id);

CREATE TABLE proposals (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    initiative_id   INTEGER NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
    target          TEXT NOT NULL CHECK (target IN ('phase','task','page')),
    action          TEXT NOT NULL CHECK (action IN ('create','update')),
    phase_id        INTEGER REFERENCES phases(id) ON DELETE SET NULL,
    task_id         INTEGER REFERENCES initiative_tasks(id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    content         TEXT NOT NULL DEFAULT '',
    metadata        TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL CHECK (status IN ('pending','accepted','dismissed')),
    source_run_id   INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    chat_session_id INTEGER,
    created_id      INTEGER,
    created_at      TEXT NOT NULL,
    decided_at      TEXT
);
CREATE INDEX proposals_initiative ON proposals (initiative_id, status);

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    initiative_id   INTEGER NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
    from_task_id    INTEGER REFERENCES initiative_tasks(id) ON DELETE SET NULL,
    to_task_id      INTEGER NOT NULL REFERENCES initiative_tasks(id) ON DELETE CASCADE,
    question        TEXT NOT NULL,
    answer          TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending','answered','cancelled')),
    answer_run_id   INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    answered_at     TEXT
);
CREATE INDEX conversations_initiative ON conversations (initiative_id, id);

CREATE TABLE chat_sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    initiative_id   INTEGER NOT NULL REFERENCES initiatives(id) ON DELETE CASCADE,
    phase_id        INTEGER REFERENCES phases(id) ON DELETE SET NULL,
    task_id         INTEGER REFERENCES initiative_tasks(id) ON DELETE SET NULL,
    agent           TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX chat_sessions_initiative ON chat_sessions (initiative_id, id);

CREATE TABLE chat_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id      INTEGER NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('user','agent')),
    text            TEXT NOT NULL,
    run_id          INTEGER REFERENCES agent_runs(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX chat_messages_session ON chat_messages (session_id, id);

CREATE TABLE phase_comments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    phase_id        INTEGER NOT NULL REFERENCES phases(id) ON DELETE CASCADE,
    path            TEXT NOT NULL,
    line            INTEGER NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('old','new')),
    body            TEXT NOT NULL,
    resolved        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE INDEX phase_comments_phase ON phase_comments (phase_id, resolved);

-- Factory events name their initiative in the payload: replay one initiative's history.
CREATE INDEX agent_events_initiative ON agent_events (json_extract(payload, '$.initiativeId'), id)
    WHERE json_extract(payload, '$.initiativeId') IS NOT NULL;
