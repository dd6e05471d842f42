-- Search's vocabulary (0013, 0015) is kept by a trigger on every task and
-- comment written: add_search_words. Its NOT EXISTS made the statement's
-- plan depend on how large search_words looked when PL/pgSQL first planned
-- it; in a new workspace (an empty table) that plan read the whole
-- vocabulary for every row written, so a bulk write grew with the square of
-- its new words: importing 20,000 tasks into an empty workspace took
-- minutes, not seconds. ON CONFLICT alone does the same with one probe of
-- the primary key per word, whatever the table's size, and still writes
-- nothing for a word already there. Otherwise as in 0015.
CREATE OR REPLACE FUNCTION add_search_words(VARIADIC texts text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM unnest(texts) AS t(body),
         unnest(tsvector_to_array(to_tsvector('simple'::regconfig, coalesce(t.body, '')))) AS w(word)
    WHERE char_length(w.word) >= 3
    ORDER BY w.word
    ON CONFLICT (word) DO NOTHING;
END
$$;
