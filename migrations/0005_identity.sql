-- Identity hardening (issue #20).
--
-- Personal API tokens expire (default 90 days, at most 365). Tokens made
-- before this migration never expired; they get 90 days from now, so no
-- program stops at the upgrade without warning.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamp;
UPDATE api_tokens SET expires_at = (now() AT TIME ZONE 'utc') + interval '90 days';
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;

-- Housekeeping deletes by these (see crates/accounts/src/housekeeping.rs).
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sign_in_failures_last_failure_at_idx ON sign_in_failures (last_failure_at);

-- When a housekeeping job last ran: an instance claims a run by moving
-- last_run_at with a conditional write, so one of any number wins.
CREATE TABLE housekeeping (
    job         text PRIMARY KEY,
    last_run_at timestamp NOT NULL
);
