-- Tables nothing reads or writes: a run's planned tasks and their dependencies, context
-- artifacts and a key/value settings store. The factory brings tasks and artifacts back with
-- a schema of its own; these rows were never written by any release.
DROP TABLE task_dependencies;
DROP TABLE tasks;
DROP TABLE context_artifacts;
DROP TABLE settings;
