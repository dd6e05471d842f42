-- Labels (issue #22): a set of named, coloured labels the admins keep, and
-- any number of them on each task (owned by task-service's labels.rs).
-- Tasks refer to labels by id, so a rename or a new colour shows on every
-- task at once, and a deleted label leaves every task with it (the rows of
-- task_labels go with the label).
CREATE TABLE labels (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The service checks the length in characters and refuses control
    -- characters and blank names; this is the last line of defence.
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    -- One of the palette's named colours (task-service's labels.rs,
    -- static/css/app.css): each passes WCAG AA for its chip's text.
    color text NOT NULL CHECK (color IN (
        'gray', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'indigo', 'purple', 'pink'
    )),
    -- UTC, as every timestamp of the schema.
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- Names are unique whatever their letter case ("Bug" and "bug" would be
-- one label to a reader); the list is ordered by the same key.
CREATE UNIQUE INDEX labels_name_key ON labels (lower(name));

CREATE TABLE task_labels (
    task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    label_id uuid NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, label_id)
);

-- The board's filter (the tasks with a label) and the label FK's ON DELETE
-- CASCADE read by label; a task's labels are the primary key's range.
CREATE INDEX task_labels_label ON task_labels (label_id, task_id);

-- A task's history names its labels when a change sets them: a field
-- 'labels', from and to the names, comma-separated (written by
-- task-service's update statement, in the same statement as the change).
ALTER TABLE task_history DROP CONSTRAINT task_history_field_check;
ALTER TABLE task_history ADD CONSTRAINT task_history_field_check
    CHECK (field IN ('created', 'title', 'description', 'status', 'due_date', 'assignee_id', 'labels'));

-- The change feed (0009) learns of labels: entity 'label' with the label's
-- id. A rename, a new colour or a deletion changes what every board with
-- the label shows; a task's own labels set through the API are a change to
-- the task (its version moves), which the tasks' triggers already record.
ALTER TABLE changes DROP CONSTRAINT changes_entity_check;
ALTER TABLE changes ADD CONSTRAINT changes_entity_check
    CHECK (entity IN ('task', 'user', 'comment', 'label'));

CREATE FUNCTION record_label_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- NEW is NULL in a DELETE's trigger, OLD in an INSERT's.
    INSERT INTO changes (entity, entity_id, action)
    VALUES ('label', COALESCE(NEW.id, OLD.id),
            CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'DELETE' THEN 'deleted' ELSE 'changed' END);
    RETURN NULL;
END
$$;

CREATE TRIGGER labels_feed_write AFTER INSERT OR DELETE ON labels
    FOR EACH ROW EXECUTE FUNCTION record_label_change();
CREATE TRIGGER labels_feed_update AFTER UPDATE ON labels
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION record_label_change();

-- The apps' DML-only role (0003) gets these tables' privileges from its
-- default privileges (the ids are UUIDs: no sequence); granted here as
-- well, so that a database whose tables were created by another role than
-- 0003's still works.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON labels, task_labels TO microtaskhub_app;
    END IF;
END
$$;
