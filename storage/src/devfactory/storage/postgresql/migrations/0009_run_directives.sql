-- Messages from the user to a run a team worker drives: the daemon that took the request
-- appends them here, and the worker driving the run takes them at the run's next step and
-- hands them to the model there.
ALTER TABLE agent_runs ADD COLUMN pending_directives JSONB NOT NULL DEFAULT '[]'::jsonb;
