-- Comments on tasks (issue #21): plain text by a person, on one task,
-- edited by its author, deleted by its author or an admin (the rules are
-- task-service's, crates/accounts/src/policy.rs). A task's comments go with
-- the task; a deleted person's comments stay, naming nobody.
CREATE TABLE task_comments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    -- NULL: a service wrote it, or its author was deleted since.
    author_id uuid REFERENCES users (id) ON DELETE SET NULL,
    -- The service checks the length in characters and refuses control
    -- characters; this is the last line of defence.
    body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    -- UTC, as every timestamp of the schema (spin:postgres reads and binds
    -- `timestamp`, not `timestamptz`).
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    -- NULL until the author edits it.
    edited_at timestamp
);

-- A task's comments, newest first, are one index range; the same index
-- answers the comment count on every task of a list (one index-only count
-- per task).
CREATE INDEX task_comments_task_newest ON task_comments (task_id, created_at DESC, id DESC);
-- The user FK's ON DELETE SET NULL looks comments up by person.
CREATE INDEX task_comments_author ON task_comments (author_id);

-- The change feed (0009) learns of comments: entity 'comment', and the id
-- is the task's (what an open board reloads: the card's count, and the
-- task's dialog if it is open).
ALTER TABLE changes DROP CONSTRAINT changes_entity_check;
ALTER TABLE changes ADD CONSTRAINT changes_entity_check
    CHECK (entity IN ('task', 'user', 'comment'));

CREATE FUNCTION record_comment_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Deleted with its task (ON DELETE CASCADE): the task's deletion is
        -- the change, and a task with many comments must not fill the feed.
        IF NOT EXISTS (SELECT 1 FROM tasks WHERE id = OLD.task_id) THEN
            RETURN NULL;
        END IF;
        INSERT INTO changes (entity, entity_id, action) VALUES ('comment', OLD.task_id, 'deleted');
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO changes (entity, entity_id, action) VALUES ('comment', NEW.task_id, 'created');
    ELSE
        INSERT INTO changes (entity, entity_id, action) VALUES ('comment', NEW.task_id, 'changed');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_comments_feed_write AFTER INSERT OR DELETE ON task_comments
    FOR EACH ROW EXECUTE FUNCTION record_comment_change();
CREATE TRIGGER task_comments_feed_update AFTER UPDATE ON task_comments
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION record_comment_change();

-- The apps' DML-only role (0003) gets this table's privileges from its
-- default privileges; the ids are UUIDs (no sequence to grant), and the
-- feed's sequence was granted by 0009. Granted here as well, so that a
-- database whose tables were created by another role than 0003's still works.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON task_comments TO microtaskhub_app;
    END IF;
END
$$;
