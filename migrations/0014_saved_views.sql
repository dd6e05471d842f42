-- Saved views (issue #22): a person's own named board views. A view is the
-- board's filters in their URL form (the query string of GET /tasks without
-- paging or `today`, e.g. `status=todo&due=overdue`), checked by
-- task-service with the same parser as the list's filters before it is
-- stored (owned by task-service's views.rs). Each person sees and changes
-- only their own; a person's views go with them.
CREATE TABLE saved_views (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The service checks the length in characters and refuses control
    -- characters and blank names; this is the last line of defence.
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    query text NOT NULL CHECK (char_length(query) <= 2000),
    -- UTC, as every timestamp of the schema.
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- Names are unique per person whatever their letter case; a person's list
-- is read by this index, in the same order.
CREATE UNIQUE INDEX saved_views_owner_name_key ON saved_views (owner_id, lower(name));

-- The apps' DML-only role (0003) gets the table's privileges from its
-- default privileges; granted here as well, so that a database whose tables
-- were created by another role than 0003's still works.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON saved_views TO microtaskhub_app;
    END IF;
END
$$;
