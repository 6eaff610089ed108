-- Which daemon runs a command, and the token its processes carry in their environment: the
-- next daemon closes the records of a daemon that died (even under kill -9) and ends the
-- processes it left behind.
ALTER TABLE command_executions ADD COLUMN owner TEXT;
ALTER TABLE command_executions ADD COLUMN marker TEXT;
CREATE INDEX command_executions_open ON command_executions (project_id) WHERE finished_at IS NULL;
