-- Seed data of the search benchmark (scripts/bench-search.sh; psql -v
-- tasks=N -v comments=M), after scripts/bench/seed.sql has made the users.
-- Texts are drawn from a vocabulary of 12,167 made-up words (three
-- syllables of 23) and 60 common words of a team's board, skewed like real
-- text: a few words are everywhere, most are rare. Deterministic (setseed),
-- so runs compare.
\set ON_ERROR_STOP on
SELECT setseed(0.22) \gset
CREATE TEMP TABLE vocab AS
WITH common(w) AS (
    SELECT unnest(string_to_array(
        'the and fix add update design deployment database login page button error '
        'test release review api server client bug feature user email search board '
        'task label comment report crash slow timeout build pipeline docs mobile '
        'layout style color dark theme import export backup restore migrate schema '
        'index query cache session token password invoice customer billing payment '
        'dashboard chart metrics alert', ' '))
), syl(s) AS (
    SELECT unnest(string_to_array('ka lo mi nu pe ra si to ve za bo ci du fe gi ha ju ke li mo ne pa ru', ' '))
)
SELECT (row_number() OVER ())::int AS n, w FROM (
    SELECT w FROM common
    UNION ALL
    SELECT a.s || b.s || c.s FROM syl a, syl b, syl c
) AS words;
ALTER TABLE vocab ADD PRIMARY KEY (n);
CREATE TEMP TABLE vocab_size AS SELECT count(*)::int AS n FROM vocab;
ANALYZE vocab;
ANALYZE vocab_size;

-- k words, each drawn with a skew towards the start of the vocabulary.
CREATE FUNCTION pg_temp.words(k int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg((SELECT w FROM vocab WHERE vocab.n = r.i), ' ')
    FROM (SELECT 1 + floor(vocab_size.n * power(random(), 2.5))::int AS i
          FROM vocab_size, generate_series(1, k)) AS r
$$;

-- Without the triggers (history, change feed, vocabulary), which would
-- take minutes for 400,000 rows; the vocabulary is filled in one pass after.
SET session_replication_role = replica;
BEGIN;
CREATE TEMP TABLE seed_users AS
SELECT (row_number() OVER (ORDER BY id))::int - 1 AS i, id FROM users;
INSERT INTO tasks (title, description, status, assignee_id, created_at, updated_at)
SELECT initcap(pg_temp.words(3 + n % 5)),
       CASE WHEN n % 3 = 0 THEN NULL ELSE pg_temp.words(10 + n % 25) || '.' END,
       CASE WHEN n % 10 < 3 THEN 'todo' WHEN n % 10 < 5 THEN 'in_progress' ELSE 'done' END,
       (SELECT id FROM seed_users WHERE i = n % (SELECT count(*) FROM seed_users)),
       (now() AT TIME ZONE 'utc') - make_interval(secs => n * 10),
       (now() AT TIME ZONE 'utc') - make_interval(secs => n * 5)
FROM generate_series(1, :tasks) AS n;

-- Comments spread over the tasks, :comments / :tasks each on average.
CREATE TEMP TABLE seed_tasks AS
SELECT (row_number() OVER (ORDER BY id))::int - 1 AS i, id FROM tasks;
ALTER TABLE seed_tasks ADD PRIMARY KEY (i);
INSERT INTO task_comments (task_id, body, created_at)
SELECT (SELECT id FROM seed_tasks WHERE i = n % :tasks),
       pg_temp.words(5 + n % 20),
       (now() AT TIME ZONE 'utc') - make_interval(secs => n)
FROM generate_series(1, :comments) AS n;
SELECT fill_search_words();
COMMIT;
RESET session_replication_role;
VACUUM (ANALYZE) tasks;
VACUUM (ANALYZE) task_comments;
VACUUM (ANALYZE) search_words;
