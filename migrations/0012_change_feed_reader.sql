-- The change feed's read (issue #21) as a function: every open board's
-- stream runs it once a second (components/frontend/src/changes.rs, the
-- feed's one reader). As a plain statement it was planned anew each time —
-- Spin's Postgres client prepares every statement afresh — and planning was
-- most of its cost (about 0.3 of 0.4 ms). PL/pgSQL keeps the plan of its
-- query for the connection's life, and Spin keeps its connections in a
-- pool, so a check costs little more than the index range it reads.
--
-- With after_tx: the final rows after (after_tx, after_id) — those of
-- transactions older than every transaction still running (the snapshot's
-- xmin, see 0009) — oldest first, at most max_rows. Without (NULL): the
-- newest final row, where the feed ends. Always at least one row, carrying
-- the snapshot's xmax and the pruning watermark; its change columns are
-- NULL when there is no change.
-- Where the feed stands: the snapshot's xmin (rows of older transactions
-- are final) and xmax (a cursor at or past it is not of this database), and
-- how far pruning has deleted (0009).
CREATE FUNCTION change_feed_horizon()
RETURNS TABLE (xmin bigint, xmax bigint, pruned_tx bigint, pruned_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint,
           COALESCE(p.tx, 0), COALESCE(p.id, 0)
    FROM pg_current_snapshot() AS s LEFT JOIN changes_pruned p ON true
$$;

CREATE FUNCTION change_feed(after_tx bigint, after_id bigint, max_rows bigint)
RETURNS TABLE (xmax bigint, pruned_tx bigint, pruned_id bigint,
               tx bigint, id bigint, entity text, entity_id uuid, action text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    IF after_tx IS NULL THEN
        RETURN QUERY
        SELECT h.xmax, h.pruned_tx, h.pruned_id, c.tx, c.id, c.entity, c.entity_id, c.action
        FROM change_feed_horizon() AS h
        LEFT JOIN LATERAL (SELECT f.tx, f.id, f.entity, f.entity_id, f.action FROM changes f
                           WHERE f.tx < h.xmin ORDER BY f.tx DESC, f.id DESC LIMIT 1) c ON true;
    ELSE
        RETURN QUERY
        SELECT h.xmax, h.pruned_tx, h.pruned_id, c.tx, c.id, c.entity, c.entity_id, c.action
        FROM change_feed_horizon() AS h
        LEFT JOIN LATERAL (SELECT f.tx, f.id, f.entity, f.entity_id, f.action FROM changes f
                           WHERE (f.tx, f.id) > (after_tx, after_id) AND f.tx < h.xmin
                           ORDER BY f.tx, f.id LIMIT max_rows) c ON true;
    END IF;
END
$$;
