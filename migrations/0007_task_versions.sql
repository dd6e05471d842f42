-- Task versions (issue #21): every change to a task moves its version, so a
-- client that sends `If-Match` with the version it saw cannot overwrite a
-- change it has not seen (task-service answers 412 with the current task).
-- Existing tasks start at version 1.
ALTER TABLE tasks ADD COLUMN version bigint NOT NULL DEFAULT 1;
