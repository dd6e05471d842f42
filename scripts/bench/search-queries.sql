-- The queries of the search benchmark (scripts/bench/search.sh), drawn
-- from the seeded texts: psql -v kind=… -v n=… writes n query strings
-- (already URL-encoded) for one kind, one a line. Deterministic (by id).
\set ON_ERROR_STOP on
WITH sample AS (
    SELECT lower(title) AS title, assignee_id,
           row_number() OVER (ORDER BY md5(id::text)) AS i
    FROM tasks
),
picked AS (
    SELECT i, assignee_id,
           split_part(title, ' ', 1) AS w1, split_part(title, ' ', 2) AS w2,
           (SELECT w FROM unnest(string_to_array(title, ' ')) AS w
            WHERE char_length(w) >= 6 LIMIT 1) AS long
    FROM sample
)
SELECT CASE :'kind'
    -- one of the 20 most common words (in a tenth to a third of the
    -- tasks each): the most rows to rank
    WHEN 'common' THEN 'q=' || (string_to_array('the and fix add update design deployment database '
        'login page button error test release review api server client bug feature', ' '))[1 + i % 20]
    -- one word of a title, whole
    WHEN 'word' THEN 'q=' || w1
    -- two words of one title
    WHEN 'two' THEN 'q=' || w1 || '+' || w2
    -- the first 4 letters of a word of 6 or more
    WHEN 'prefix' THEN 'q=' || left(long, 4)
    -- a word of 6 letters or more with two letters swapped (its 3rd and
    -- 4th), as typed in a hurry
    WHEN 'typo' THEN 'q=' || left(long, 2) || substr(long, 4, 1) || substr(long, 3, 1) || substr(long, 5)
    -- a word, with the board's filters: one person's open tasks
    WHEN 'filtered' THEN 'q=' || w2 || '&status=todo&assignee_id=' || assignee_id
  END
FROM picked WHERE long IS NOT NULL ORDER BY i LIMIT :n;
