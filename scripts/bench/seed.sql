-- Seed data of scripts/bench.sh (psql -v users=N -v tasks=M), after the
-- migrations. Ids are md5('user-' || n)::uuid and md5('task-' || n)::uuid:
-- random-looking like gen_random_uuid(), and derivable by pgbench from n.
--
-- Each user n gets tasks/users tasks (assignee 1 + n % users), 30 % todo,
-- 20 % in_progress, 50 % done; a third without description, a quarter
-- without due date; created over the last weeks, newest first by n.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO users (id, email, full_name, role, created_at)
SELECT md5('user-' || n)::uuid,
       'user' || n || '@seed.example',
       'Seed User ' || n,
       CASE WHEN n % 20 = 0 THEN 'lead' ELSE 'member' END,
       (now() AT TIME ZONE 'utc') - make_interval(mins => :users - n + 1)
FROM generate_series(1, :users) AS n;

INSERT INTO tasks (id, title, description, status, due_date, assignee_id, created_at, updated_at)
SELECT md5('task-' || n)::uuid,
       'Task ' || n,
       CASE WHEN n % 3 = 0 THEN NULL ELSE 'Details of task ' || n || ': what to do, and why.' END,
       CASE WHEN (n / :users) % 10 < 3 THEN 'todo'
            WHEN (n / :users) % 10 < 5 THEN 'in_progress'
            ELSE 'done' END,
       CASE WHEN n % 4 = 0 THEN NULL ELSE current_date + (n % 90) END,
       md5('user-' || (1 + n % :users))::uuid,
       (now() AT TIME ZONE 'utc') - make_interval(secs => (:tasks - n + 1) * 10),
       (now() AT TIME ZONE 'utc') - make_interval(secs => (:tasks - n + 1) * 5)
FROM generate_series(1, :tasks) AS n;
COMMIT;
VACUUM (ANALYZE) users;
VACUUM (ANALYZE) tasks;
CHECKPOINT;
