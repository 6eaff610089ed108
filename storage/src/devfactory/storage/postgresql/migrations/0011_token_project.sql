-- An API token belongs to one project: a gateway accepts only its own project's tokens, and
-- `devfactory token list`/`revoke` act on one project. Tokens made before this recorded no
-- project anywhere, so none is guessed for them: they stay (listed, revocable) with no project
-- and every gateway refuses them, saying to re-create them.
ALTER TABLE api_tokens ADD COLUMN project_id BIGINT REFERENCES projects (id);
DROP INDEX api_tokens_live_name;
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (project_id, name) WHERE revoked_at IS NULL;
