-- Open boards follow the change feed as streams (issue #21) and must end
-- when their session does: a sign-out, a password changed on another
-- device, a deactivation. Until now each stream checked its own session
-- every 5 s, a statement per board — with 200 open boards, 40 a second
-- that told nothing new. Instead every statement that deletes sessions
-- counts here; the feed's shared read (one per process a moment, see
-- components/frontend/src/feed_tail.rs) carries the count to every stream,
-- and a stream checks its own session only when the count has moved since
-- its last check. The accounts crate's sessions module owns this table.
--
-- Written to be re-runnable, like 0013 and 0015.
CREATE TABLE IF NOT EXISTS sessions_ended (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    count bigint NOT NULL
);
INSERT INTO sessions_ended (count) VALUES (0) ON CONFLICT DO NOTHING;

-- Once per statement, whatever it deleted (a housekeeping sweep of a
-- thousand expired sessions is one count), and not at all when it deleted
-- nothing (a sign-in prunes its person's ended sessions, usually none).
-- The count's row stays locked until the deleting transaction ends: every
-- statement that deletes sessions runs on its own (sign-out, a password
-- change, a deactivation, housekeeping), so sign-outs never queue behind a
-- long transaction.
CREATE OR REPLACE FUNCTION count_sessions_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM gone) THEN
        UPDATE sessions_ended SET count = count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER sessions_ended_count AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION count_sessions_ended();
