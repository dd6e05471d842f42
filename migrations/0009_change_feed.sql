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

CREATE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    entity text := CASE TG_TABLE_NAME WHEN 'tasks' THEN 'task' ELSE 'user' END;
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (entity, entity_id, action) VALUES (entity, OLD.id, 'deleted');
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO changes (entity, entity_id, action) VALUES (entity, NEW.id, 'created');
    ELSE
        INSERT INTO changes (entity, entity_id, action) VALUES (entity, NEW.id, 'changed');
    END IF;
    RETURN NULL;
END
$$;

-- Pruning: the feed keeps the last 10,000 changes or so. A page further
-- behind than 100 changes reloads everything anyway (`reset`), so older
-- rows serve nobody. Every 1,000th change deletes those 10,000 older than
-- itself, and moves the watermark: the greatest (tx, id) ever deleted. A
-- cursor below it may have lost rows after it, so its next poll resets;
-- a cursor at or above it lost nothing. Done by a trigger on the feed
-- itself, a batch at a time, so no schedule is needed and the feed stays
-- bounded whatever writes it (the API, a service, psql, later triggers).
CREATE TABLE changes_pruned (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    tx bigint NOT NULL,
    id bigint NOT NULL
);
INSERT INTO changes_pruned (tx, id) VALUES (0, 0);

CREATE FUNCTION prune_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (DELETE FROM changes WHERE id <= NEW.id - 10000 RETURNING tx, id),
    newest AS (SELECT tx, id FROM gone ORDER BY tx DESC, id DESC LIMIT 1)
    UPDATE changes_pruned p SET tx = newest.tx, id = newest.id FROM newest
    WHERE (newest.tx, newest.id) > (p.tx, p.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER changes_prune AFTER INSERT ON changes
    FOR EACH ROW WHEN (NEW.id % 1000 = 0) EXECUTE FUNCTION prune_changes();

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
