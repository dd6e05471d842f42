-- Imports of any size (issue #22): a file is uploaded in chunks of at most
-- 1 MiB, staged here, and then read a chunk at a time by task-service's
-- importer (uploads.rs owns both tables), so neither the request nor the
-- importer ever holds the whole file. The upload's row also carries the
-- run's progress, written on a connection of its own so that others see it
-- while the import's transaction is open.
--
-- Written to be re-runnable (IF NOT EXISTS), like 0013 and 0015.
CREATE TABLE IF NOT EXISTS import_uploads (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The admin who made it; only they see it. No foreign key: the import
    -- of an export hands the importer's sign-in over to the file's person
    -- (another id) inside the import's transaction, which would otherwise
    -- lock or delete the very row that reports the import's progress. The
    -- run moves the row to the new id after it commits.
    owner_id uuid NOT NULL,
    -- While an import of an export runs: the file's person who takes over
    -- the owner's sign-in when it commits, so that the owner, signed in as
    -- either, sees the upload until the run moves it to them.
    handed_to uuid,
    kind text NOT NULL CHECK (kind IN ('microtaskhub', 'trello')),
    size bigint NOT NULL CHECK (size >= 0),
    -- receiving, checking, writing, done, failed.
    phase text NOT NULL DEFAULT 'receiving',
    -- What is being written (people, tasks...), during `writing`.
    section text,
    items_done bigint NOT NULL DEFAULT 0,
    -- The run's answer: its summary (done) or its error (failed), as JSON text.
    result text,
    status integer,
    -- UTC, as every timestamp of the schema.
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- Stale uploads are found by age when a new one is made.
CREATE INDEX IF NOT EXISTS import_uploads_created_at ON import_uploads (created_at);

CREATE TABLE IF NOT EXISTS import_chunks (
    upload_id uuid NOT NULL REFERENCES import_uploads (id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 0),
    data bytea NOT NULL,
    PRIMARY KEY (upload_id, seq)
);

-- The apps' DML-only role (0003) gets the tables' privileges from its
-- default privileges; granted here as well, so that a database whose tables
-- were created by another role than 0003's still works.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON import_uploads, import_chunks TO microtaskhub_app;
    END IF;
END
$$;
