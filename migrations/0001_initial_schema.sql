-- Users and tasks. Timestamps are UTC `timestamp` (not timestamptz): Spin's
-- postgres@4 interface cannot read or bind timestamptz.

CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text NOT NULL,
    full_name   text NOT NULL,
    role        text NOT NULL DEFAULT 'member',
    created_at  timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- Emails are unique regardless of letter case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_created_at_idx ON users (created_at DESC, id DESC);

CREATE TABLE tasks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title        text NOT NULL,
    description  text,
    -- text + CHECK rather than an enum: Spin's postgres interface reads and
    -- binds text, but has no conversion for user-defined enum types.
    status       text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done')),
    due_date     date,
    -- Deleting a user clears the assignee of their tasks ...
    assignee_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    -- ... which this check refuses for unfinished tasks. Together with the
    -- foreign key (whose row lock serialises a delete against a concurrent
    -- insert or reassign), the database itself guarantees that no open task
    -- ever points at a deleted user, whatever the services race.
    CONSTRAINT tasks_open_needs_assignee CHECK (status = 'done' OR assignee_id IS NOT NULL)
);

-- One index per list filter the API offers, each in the list's order
-- (newest first), so a page is read straight off the index.
CREATE INDEX tasks_created_at_idx ON tasks (created_at DESC, id DESC);
CREATE INDEX tasks_assignee_created_idx ON tasks (assignee_id, created_at DESC, id DESC);
CREATE INDEX tasks_assignee_status_created_idx ON tasks (assignee_id, status, created_at DESC, id DESC);
CREATE INDEX tasks_status_created_idx ON tasks (status, created_at DESC, id DESC);
