-- Search (issue #22): one box finds tasks by the words of their title,
-- description and comments (owned by task-service's search.rs; comments.rs
-- gives the comments' part).
--
-- * Full-text: a GIN index on each task's document (title weighted A,
--   description B) and one on each comment's body. The 'simple'
--   configuration (lower case, no stemming, no stop words): a team writes
--   in whatever language it writes in, and each query word is matched as a
--   prefix ("deplo" finds "deployment"), which covers most of what stemming
--   would.
-- * Typos: pg_trgm on a vocabulary, the distinct words of every title,
--   description and comment, kept by triggers. A query word that is not
--   a prefix of anything is widened to the vocabulary's words most like it
--   ("desing" to "design"), found through the trigram index; then the
--   full-text indexes answer. Trigrams over the texts themselves would
--   match every long text a little and need a recheck per candidate row:
--   the vocabulary stays small (words, not texts) whatever the number of
--   tasks.
--
-- Written to be re-runnable (IF NOT EXISTS, OR REPLACE), like 0003's grants.

-- A trusted extension (PostgreSQL 13+): the database's owner may create it,
-- so the migration role needs no superuser (k8s/: CloudNativePG's
-- application database is owned by the role the migration Job runs as).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The documents the indexes hold and the queries match: one definition
-- each, used by the indexes below and by task-service's statements (an
-- expression index is used only by a query that spells the same
-- expression; SQL functions are inlined before that comparison).
CREATE OR REPLACE FUNCTION task_search_document(title text, description text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'B')
$$;

CREATE OR REPLACE FUNCTION comment_search_document(body text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple'::regconfig, body), 'C')
$$;

CREATE INDEX IF NOT EXISTS tasks_search
    ON tasks USING gin (task_search_document(title, description));
CREATE INDEX IF NOT EXISTS task_comments_search
    ON task_comments USING gin (comment_search_document(body));

-- A word as a lexeme of tsquery's input syntax (quoted: ' doubled, \
-- escaped), so that no word of a query or of the vocabulary is an operator.
CREATE OR REPLACE FUNCTION search_lexeme(word text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '''' || replace(replace(word, '\', '\\'), '''', '''''') || ''''
$$;

-- The vocabulary: every word (lexeme of the documents above) once. Words
-- are never removed when their last use goes: a stale word only widens a
-- typo to a word that then matches nothing.
CREATE TABLE IF NOT EXISTS search_words (
    -- Longer "words" (hashes, URLs) are not worth correcting a typo in.
    word text PRIMARY KEY CHECK (char_length(word) BETWEEN 3 AND 40)
);

-- Typos: the words most like a query word, by trigrams (pg_trgm's %).
CREATE INDEX IF NOT EXISTS search_words_trgm ON search_words USING gin (word gin_trgm_ops);
-- Whether a query word begins a known word (then it is no typo): ^@, which
-- SP-GiST answers for a prefix known only when the statement runs.
CREATE INDEX IF NOT EXISTS search_words_prefix ON search_words USING spgist (word);

-- Adds the words of some texts to the vocabulary. In a fixed order
-- (sorted), so two writers adding the same words wait for each other rather
-- than deadlock; words already there cost an index probe and no write.
-- PL/pgSQL, not SQL: its plan is kept for the session's next write.
CREATE OR REPLACE FUNCTION add_search_words(VARIADIC texts text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM unnest(texts) AS t(body),
         unnest(tsvector_to_array(to_tsvector('simple'::regconfig, coalesce(t.body, '')))) AS w(word)
    WHERE char_length(w.word) BETWEEN 3 AND 40
      AND NOT EXISTS (SELECT 1 FROM search_words s WHERE s.word = w.word)
    ORDER BY w.word
    ON CONFLICT (word) DO NOTHING;
END
$$;

-- The words of every task and comment, in one pass: for this migration,
-- and for data loaded with the triggers off (the search benchmark's seed).
CREATE OR REPLACE FUNCTION fill_search_words() RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM (SELECT task_search_document(title, description) AS doc FROM tasks
          UNION ALL SELECT comment_search_document(body) FROM task_comments) AS d,
         unnest(tsvector_to_array(d.doc)) AS w(word)
    WHERE char_length(w.word) BETWEEN 3 AND 40
    ON CONFLICT (word) DO NOTHING
$$;

CREATE OR REPLACE FUNCTION record_task_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_search_words(NEW.title, NEW.description);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION record_comment_words() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_search_words(NEW.body);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS tasks_search_words ON tasks;
CREATE TRIGGER tasks_search_words AFTER INSERT OR UPDATE OF title, description ON tasks
    FOR EACH ROW EXECUTE FUNCTION record_task_words();
DROP TRIGGER IF EXISTS task_comments_search_words ON task_comments;
CREATE TRIGGER task_comments_search_words AFTER INSERT OR UPDATE OF body ON task_comments
    FOR EACH ROW EXECUTE FUNCTION record_comment_words();

-- The words of what exists already.
SELECT fill_search_words();

-- The apps' role (0003) writes the vocabulary through the triggers, which
-- run as the writer; the default privileges of 0003 cover the table when
-- this owner created it, granted here as well for a database whose tables
-- another role created.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT SELECT, INSERT ON search_words TO microtaskhub_app;
    END IF;
END
$$;
