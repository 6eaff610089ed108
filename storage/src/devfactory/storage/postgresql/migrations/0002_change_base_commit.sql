-- The commit a change was computed against (its run's base snapshot), kept on the change: review
-- reads both sides of a change from the change alone (SQLite's 0004).
ALTER TABLE workspace_files ADD COLUMN base_commit TEXT;
UPDATE workspace_files f SET base_commit = s.commit_sha
    FROM agent_runs r JOIN snapshots s ON s.id = r.base_snapshot_id
    WHERE r.id = f.run_id;
