-- Messages from the user to a run a team worker drives: the daemon that took the request
-- appends them here, the worker driving the run takes them (as it takes pause_requested) at
-- the start of a segment and each time it renews the run's lease, and hands them to the
-- model at its next step.
ALTER TABLE agent_runs ADD COLUMN pending_directives JSONB NOT NULL DEFAULT '[]'::jsonb;
