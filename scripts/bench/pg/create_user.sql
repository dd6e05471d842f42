-- Ceiling of scenario 4 (POST /users): user-service's store::insert, one new
-- email per transaction.
\set r random(1, 9000000000000000000)
INSERT INTO users (email, full_name, role) VALUES ('pg-' || :client_id || '-' || :r || '@bench.example', 'Bench User', 'member') RETURNING id, email, full_name, role, created_at;
