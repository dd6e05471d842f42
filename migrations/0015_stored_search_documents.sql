-- Search (issue #22), faster: each task's and each comment's search
-- document (0013's task_search_document and comment_search_document) is
-- kept in a stored generated column, and the GIN indexes move onto it.
--
-- Why: ranking (ts_rank) needs the document itself, which an expression
-- index does not give back. With the expression index every ranked row was
-- parsed again (about 15 µs a task, a third of a common word's search);
-- a stored vector is read as it is. The database computes the column on
-- every insert and update, so it cannot drift from the text.
--
-- Cost: the columns are added with a table rewrite (an ACCESS EXCLUSIVE
-- lock on tasks and task_comments while that takes: 17 s for 100,000
-- tasks and 300,000 comments on the 2-core benchmark machine, busy with
-- builds at the time), and
-- each row grows by its vector. Code that selects `tasks.*` reads the
-- column as a value it does not know and ignores it; task-service names
-- its columns.
--
-- And the vocabulary (0013's search_words) now holds every word of 3
-- characters or more, long ones too: task-service searches a prefix that
-- begins few words as those words (a list of whole words is faster for the
-- index than a prefix), which finds everything the prefix would only if no
-- word is missing from the vocabulary. A lexeme is at most 2046 bytes
-- (tsvector's limit), well within what its indexes take.
--
-- Written to be re-runnable (IF NOT EXISTS, OR REPLACE), like 0013.

ALTER TABLE tasks ADD COLUMN IF NOT EXISTS search_document tsvector
    GENERATED ALWAYS AS (task_search_document(title, description)) STORED;
ALTER TABLE task_comments ADD COLUMN IF NOT EXISTS search_document tsvector
    GENERATED ALWAYS AS (comment_search_document(body)) STORED;

CREATE INDEX IF NOT EXISTS tasks_search_document ON tasks USING gin (search_document);
CREATE INDEX IF NOT EXISTS task_comments_search_document
    ON task_comments USING gin (search_document);
DROP INDEX IF EXISTS tasks_search;
DROP INDEX IF EXISTS task_comments_search;

ALTER TABLE search_words DROP CONSTRAINT IF EXISTS search_words_word_check;
ALTER TABLE search_words DROP CONSTRAINT IF EXISTS search_words_word_length;
ALTER TABLE search_words ADD CONSTRAINT search_words_word_length CHECK (char_length(word) >= 3);

-- 0013's two writers of the vocabulary, without the upper bound (and
-- reading the stored documents).
CREATE OR REPLACE FUNCTION add_search_words(VARIADIC texts text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM unnest(texts) AS t(body),
         unnest(tsvector_to_array(to_tsvector('simple'::regconfig, coalesce(t.body, '')))) AS w(word)
    WHERE char_length(w.word) >= 3
      AND NOT EXISTS (SELECT 1 FROM search_words s WHERE s.word = w.word)
    ORDER BY w.word
    ON CONFLICT (word) DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION fill_search_words() RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM (SELECT search_document AS doc FROM tasks
          UNION ALL SELECT search_document FROM task_comments) AS d,
         unnest(tsvector_to_array(d.doc)) AS w(word)
    WHERE char_length(w.word) >= 3
    ON CONFLICT (word) DO NOTHING
$$;

-- The long words of what exists already.
SELECT fill_search_words();

-- The planner's statistics for the new columns (how common each word is).
ANALYZE tasks;
ANALYZE task_comments;
ANALYZE search_words;
