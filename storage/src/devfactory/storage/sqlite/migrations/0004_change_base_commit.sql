-- The commit a change was computed against (its run's base snapshot), kept on the change: review
-- reads both sides of a change from the change alone, without asking the run for its snapshot.
ALTER TABLE workspace_files ADD COLUMN base_commit TEXT;
UPDATE workspace_files SET base_commit = (
    SELECT s.commit_sha FROM agent_runs r JOIN snapshots s ON s.id = r.base_snapshot_id
    WHERE r.id = workspace_files.run_id
);
