-- Least privilege for the applications (issue #14): the apps connect as the
-- role microtaskhub_app, which may only read and write the app's tables; the
-- role that runs the migrations owns the schema (CREATE, ALTER, DROP).
--
-- The role itself is not created here: it needs a password, which a migration
-- must not hold. On Kubernetes the migration Job creates it (and sets its
-- password from a Secret) before it applies the migrations. Where it does not
-- exist (local development and the tests, where the apps use the superuser)
-- this migration grants nothing and still succeeds.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
        GRANT USAGE ON SCHEMA public TO microtaskhub_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON users, tasks TO microtaskhub_app;
        -- Readiness checks that the schema version the code needs is present.
        GRANT SELECT ON schema_migrations TO microtaskhub_app;
        -- Tables that later migrations create (as this same owner role) get
        -- the same DML privileges, and nothing more.
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO microtaskhub_app;
    END IF;
END
$$;
