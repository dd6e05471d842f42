-- The migration Job's role bootstrap under CloudNativePG: the Cluster's
-- spec.managed.roles creates microtaskhub_app and sets its password from the
-- Secret postgres-app (and again whenever that Secret changes), once the
-- primary is up. Wait for it (at most two minutes) so that
-- migrations/0003_app_role_privileges.sql finds the role and grants it DML;
-- fail otherwise, and the Job tries again.
\set ON_ERROR_STOP on
DO $$
BEGIN
    FOR attempt IN 1..60 LOOP
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'microtaskhub_app') THEN
            RETURN;
        END IF;
        PERFORM pg_sleep(2);
    END LOOP;
    RAISE EXCEPTION 'role microtaskhub_app does not exist yet (CloudNativePG creates it from the Cluster''s spec.managed.roles)';
END
$$;
