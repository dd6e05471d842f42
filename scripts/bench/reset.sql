-- Between write scenarios (scripts/bench.sh): removes what the benchmark
-- created, so every scenario starts from the seeded data.
\set ON_ERROR_STOP on
DELETE FROM tasks WHERE title LIKE 'Bench task%';
DELETE FROM users WHERE email LIKE '%@bench.example';
VACUUM (ANALYZE) users;
VACUUM (ANALYZE) tasks;
CHECKPOINT;
