-- Runs on workers (team mode). A worker drives a run under a lease: taking it moves
-- lease_epoch on (the fencing token), and every write for the run checks the epoch, so a
-- worker that stalled and lost the run to another can never write for it again.
--
-- Events of a run are numbered per run (run_seq) by the statement that checks the lease:
-- UPDATE agent_runs SET event_seq = event_seq + n WHERE id = $run AND lease_epoch = $epoch.
-- The row lock it takes is held until the appending transaction commits, so a run's events
-- become visible in order; (run_id, run_seq) is unique, so a replayed or stale append can
-- never duplicate one. Project-wide ids (event_counters) stay as they are.
ALTER TABLE agent_runs
    ADD COLUMN lease_epoch      BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner      TEXT,
    ADD COLUMN lease_expires_at TIMESTAMPTZ,
    ADD COLUMN event_seq        BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN pause_requested  BOOLEAN NOT NULL DEFAULT false;  -- by a user, elsewhere

ALTER TABLE agent_events ADD COLUMN run_seq BIGINT;
UPDATE agent_events AS e SET run_seq = numbered.seq
    FROM (SELECT project_id, id, row_number() OVER (PARTITION BY run_id ORDER BY id) AS seq
          FROM agent_events WHERE run_id IS NOT NULL) AS numbered
    WHERE e.project_id = numbered.project_id AND e.id = numbered.id;
UPDATE agent_runs AS r SET event_seq = coalesce(
    (SELECT max(run_seq) FROM agent_events WHERE run_id = r.id), 0);
CREATE UNIQUE INDEX agent_events_run_seq ON agent_events (run_id, run_seq);

-- A proposed change as a stored patch: the two versions it compares (and its diff in
-- workspace_files), so it can be reviewed and approved on any machine of the team, not only
-- the one whose worktree made it.
CREATE TABLE change_patches (
    change_id   BIGINT PRIMARY KEY REFERENCES workspace_files(id) ON DELETE CASCADE,
    before      BYTEA,
    after       BYTEA,
    diff        TEXT NOT NULL
);
