-- Ceiling of scenario 1 (GET /tasks?assignee_id=&status=): store::list of
-- task-service, as it runs with the seeded data (a page of 100, the window count
-- on the same statement). Ids are md5('user-' || n)::uuid, see bench.sh's seed.
\set u random(1, :users)
\set s random(1, 3)
SELECT id, title, description, status, due_date, assignee_id, created_at, updated_at, count(*) OVER () FROM tasks WHERE (md5('user-' || :u)::uuid IS NULL OR assignee_id = md5('user-' || :u)::uuid) AND ((ARRAY['todo', 'in_progress', 'done'])[:s] IS NULL OR status = (ARRAY['todo', 'in_progress', 'done'])[:s]) ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET 0;
