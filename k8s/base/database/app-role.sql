-- Creates or updates the application role the SpinApps connect as, before
-- the migrations run (k8s/base/migrate-job.yaml). Idempotent: the Job runs it
-- on every apply, which also rotates the password to the Secret's current one.
--
-- Run as the database owner, with APP_PASSWORD_FILE in the environment naming
-- a file that holds the password: psql reads it itself, so the password is
-- never part of a command line. The role gets LOGIN and nothing else here;
-- migrations/0003_app_role_privileges.sql grants it DML on the app's tables.
\set ON_ERROR_STOP on
\set app_password `cat "$APP_PASSWORD_FILE"`
SELECT 'CREATE ROLE microtaskhub_app'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'microtaskhub_app') \gexec
SELECT format('ALTER ROLE microtaskhub_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
              'NOREPLICATION NOBYPASSRLS PASSWORD %L', :'app_password') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO microtaskhub_app', current_database()) \gexec
