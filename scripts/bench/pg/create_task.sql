-- Ceiling of scenario 3 (POST /tasks): user-service's store::find (the
-- assignee check), then task-service's store::insert.
\set u random(1, :users)
SELECT id, email, full_name, role, created_at FROM users WHERE id = md5('user-' || :u)::uuid \gset u_
INSERT INTO tasks (title, description, status, due_date, assignee_id) VALUES ('Bench task', 'Created by pgbench', 'todo', '2027-01-15', :u_id) RETURNING id, title, description, status, due_date, assignee_id, created_at, updated_at;
