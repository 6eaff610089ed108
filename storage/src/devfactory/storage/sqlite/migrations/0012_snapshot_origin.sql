-- Whose files a snapshot holds: the user's workspace, or a run's worktree (the agent's files,
-- unreviewed). Only workspace snapshots are restored into the workspace. Rows of older
-- versions are classified by what made them, which never changed: pre_run, pre_apply and
-- manual snapshots were of the workspace, pre_command ones of a run's worktree; a final one
-- was of the worktree (a run's result) unless review took it after applying changes. Anything
-- else, and any writer that does not say, counts as a worktree: refused, never restored.
ALTER TABLE snapshots ADD COLUMN origin TEXT NOT NULL DEFAULT 'worktree'
    CHECK (origin IN ('workspace','worktree'));
UPDATE snapshots SET origin = 'workspace'
    WHERE type IN ('pre_run','pre_apply','manual')
       OR (type = 'final' AND description LIKE 'after applying changes %');
