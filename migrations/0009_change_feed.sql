-- The change feed (issue #21): one row per change to a task or a person,
-- written by triggers in the same statement as the change, read by every
-- open board (GET /api/changes, polled about once a second). It lives here,
-- not in any instance's memory, so every instance and pod reads the same feed.
--
-- Ordering: `id` comes from a sequence when the row is written, but
-- transactions commit in another order, so a reader that went by `id`
-- alone could move past a row whose transaction had not committed yet and
-- never see it. Each row also keeps its transaction's id (`tx`); a reader
-- returns only rows of transactions older than every transaction still
-- running (the snapshot's xmin), in (tx, id) order. Those are final: no row
-- can later appear before them, so a cursor (tx, id) misses and repeats
-- nothing. A change shows once its transaction and all older writing ones
-- have ended (here: single statements, milliseconds).
CREATE TABLE changes (
    id bigserial PRIMARY KEY,
    tx bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    entity text NOT NULL CHECK (entity IN ('task', 'user')),
    entity_id uuid NOT NULL,
    action text NOT NULL CHECK (action IN ('created', 'changed', 'deleted')),
    changed_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

-- The feed's one query is a range of this index.
CREATE INDEX changes_feed ON changes (tx, id);

-- Pruning: the feed keeps the last 10,000 changes or so. A page further
-- behind than 100 changes reloads everything anyway (`reset`), so older
-- rows serve nobody. Every 1,000th change deletes those 10,000 older than
-- itself, and moves the watermark: the greatest (tx, id) ever deleted. A
-- cursor below it may have lost rows after it, so its next poll resets;
-- a cursor at or above it lost nothing. Done by the writers, a batch at a
-- time, so no schedule is needed and the feed stays bounded however it is
-- written (the API, a service, psql).
CREATE TABLE changes_pruned (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    tx bigint NOT NULL,
    id bigint NOT NULL
);
INSERT INTO changes_pruned (tx, id) VALUES (0, 0);

CREATE FUNCTION prune_changes(up_to bigint) RETURNS void
LANGUAGE sql AS $$
    WITH gone AS (DELETE FROM changes WHERE id <= up_to RETURNING tx, id),
    newest AS (SELECT tx, id FROM gone ORDER BY tx DESC, id DESC LIMIT 1)
    UPDATE changes_pruned p SET tx = newest.tx, id = newest.id FROM newest
    WHERE (newest.tx, newest.id) > (p.tx, p.id);
$$;

CREATE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    entity text := CASE TG_TABLE_NAME WHEN 'tasks' THEN 'task' ELSE 'user' END;
    change_id bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (entity, entity_id, action) VALUES (entity, OLD.id, 'deleted')
            RETURNING id INTO change_id;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO changes (entity, entity_id, action) VALUES (entity, NEW.id, 'created')
            RETURNING id INTO change_id;
    ELSE
        INSERT INTO changes (entity, entity_id, action) VALUES (entity, NEW.id, 'changed')
            RETURNING id INTO change_id;
    END IF;
    IF change_id % 1000 = 0 THEN
        PERFORM prune_changes(change_id - 10000);
    END IF;
    RETURN NULL;
END
$$;

-- Only updates that change a row are changes (a sign-in that rewrites the
-- same values is not).
CREATE TRIGGER tasks_feed_write AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER tasks_feed_update AFTER UPDATE ON tasks
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION record_change();
CREATE TRIGGER users_feed_write AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER users_feed_update AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION record_change();

-- The triggers run as the writer: the apps' DML-only role (0003) needs the
-- id sequence too (its default privileges cover tables, not sequences).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT USAGE ON SEQUENCE changes_id_seq TO microtaskhub_app;
    END IF;
END
$$;
