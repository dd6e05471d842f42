-- Ceiling of scenario 2 (GET /tasks/{id}): task-service's store::find, then
-- user-service's store::find for the task's assignee.
\set t random(1, :tasks)
SELECT id, title, description, status, due_date, assignee_id, created_at, updated_at FROM tasks WHERE id = md5('task-' || :t)::uuid \gset t_
SELECT id, email, full_name, role, created_at FROM users WHERE id = :t_assignee_id;
