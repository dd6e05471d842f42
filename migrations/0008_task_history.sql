-- Task history (issue #21): every change to a task, field by field — who,
-- when, from what to what — and its creation. Written by a trigger in the
-- same statement as the change, so no change can happen without its entry
-- (and an entry never describes a change that was rolled back). Values are
-- kept as text (what the API shows: dates YYYY-MM-DD, ids as UUIDs).
-- A task's history goes with the task.
CREATE TABLE task_history (
    id bigserial PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    -- Who: the task's updated_by of that change (NULL: a service, or a
    -- person since deleted).
    changed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    changed_at timestamp NOT NULL,
    -- 'created', or the field that changed.
    field text NOT NULL CHECK (field IN ('created', 'title', 'description', 'status', 'due_date', 'assignee_id')),
    old_value text,
    new_value text
);

-- A task's history, newest first, is one index range.
CREATE INDEX task_history_task_newest ON task_history (task_id, id DESC);
-- The user FK's ON DELETE SET NULL looks entries up by person.
CREATE INDEX task_history_changed_by ON task_history (changed_by);

CREATE FUNCTION record_task_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_history (task_id, changed_by, changed_at, field, old_value, new_value)
        VALUES (NEW.id, NEW.created_by, NEW.created_at, 'created', NULL, NEW.title);
        RETURN NULL;
    END IF;
    -- A change through the API moves the version and names its writer; one
    -- the database makes itself (a deleted person's done tasks lose their
    -- assignee, ON DELETE SET NULL) does not: nobody is named for it.
    INSERT INTO task_history (task_id, changed_by, changed_at, field, old_value, new_value)
    SELECT NEW.id,
           CASE WHEN NEW.version <> OLD.version THEN NEW.updated_by END,
           CASE WHEN NEW.version <> OLD.version THEN NEW.updated_at ELSE (now() AT TIME ZONE 'utc') END,
           c.field, c.old_value, c.new_value
    FROM (VALUES
        (1, 'title', OLD.title, NEW.title),
        (2, 'description', OLD.description, NEW.description),
        (3, 'status', OLD.status, NEW.status),
        (4, 'due_date', OLD.due_date::text, NEW.due_date::text),
        (5, 'assignee_id', OLD.assignee_id::text, NEW.assignee_id::text)
    ) AS c (ord, field, old_value, new_value)
    WHERE c.old_value IS DISTINCT FROM c.new_value
    ORDER BY c.ord;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_history
    AFTER INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION record_task_history();

-- Tasks that exist already get their creation, as far as it is known.
INSERT INTO task_history (task_id, changed_by, changed_at, field, old_value, new_value)
SELECT id, created_by, created_at, 'created', NULL, title FROM tasks;

-- The triggers run as the writer: the apps' DML-only role (0003) needs the
-- id sequence too (its default privileges cover tables, not sequences).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT USAGE ON SEQUENCE task_history_id_seq TO microtaskhub_app;
    END IF;
END
$$;
