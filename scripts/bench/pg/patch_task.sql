-- Ceiling of scenario 5 (PATCH /tasks/{id} {"status"}): task-service's
-- store::update with only the status set, then user-service's store::find for
-- the assignee.
\set t random(1, :tasks)
\set s random(1, 3)
UPDATE tasks SET title = COALESCE(NULL::text, title), description = CASE WHEN false THEN NULL::text ELSE description END, status = COALESCE((ARRAY['todo', 'in_progress', 'done'])[:s], status), due_date = CASE WHEN false THEN NULL::date ELSE due_date END, assignee_id = COALESCE(NULL::uuid, assignee_id), updated_at = (now() AT TIME ZONE 'utc') WHERE id = md5('task-' || :t)::uuid RETURNING id, title, description, status, due_date, assignee_id, created_at, updated_at \gset t_
SELECT id, email, full_name, role, created_at FROM users WHERE id = :t_assignee_id;
