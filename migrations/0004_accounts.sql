-- Accounts (issue #13): every person signs in as themselves.
--
-- users.access says what a person may do (admin: everything; member: create
-- tasks and change the tasks assigned to them). users.role stays what it was:
-- their job on the team, free text. Existing users become members without a
-- password; an admin invites them to set one.
ALTER TABLE users
    ADD COLUMN access text NOT NULL DEFAULT 'member' CHECK (access IN ('admin', 'member')),
    -- A deactivated person keeps their row (their tasks keep their name) but
    -- can neither sign in nor use a token; their sessions are deleted.
    ADD COLUMN active boolean NOT NULL DEFAULT true;

-- Who created a task and who changed it last (NULL: before accounts, or a
-- service acting for itself).
ALTER TABLE tasks
    ADD COLUMN created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN updated_by uuid REFERENCES users (id) ON DELETE SET NULL;

-- Secrets are stored only as hashes: a password as an argon2id PHC string,
-- every token (session, invitation, API) as the hex SHA-256 of its value —
-- they are 256-bit random values, so a fast hash is enough.
CREATE TABLE credentials (
    user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    updated_at    timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

CREATE TABLE sessions (
    token_hash   text PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    last_seen_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    -- The absolute end; the idle limit is measured from last_seen_at.
    expires_at   timestamp NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- One-time set-password links (an invitation or a reset), valid 72 hours.
CREATE TABLE invitations (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    expires_at timestamp NOT NULL,
    used_at    timestamp
);
CREATE INDEX invitations_user_id_idx ON invitations (user_id);

-- Personal API tokens: the owner's permissions, for programs.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   text NOT NULL UNIQUE,
    created_at   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    last_used_at timestamp,
    revoked_at   timestamp
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- Failed sign-ins per key ('email:<address>' or 'client:<address>'), for
-- throttling. A success for the email clears its row.
CREATE TABLE sign_in_failures (
    key             text PRIMARY KEY,
    failures        integer NOT NULL,
    last_failure_at timestamp NOT NULL,
    blocked_until   timestamp
);
