-- OpenID Connect sign-in (issue #24). Owned by crates/accounts/src/oidc/.

-- Sign-ins under way: one row per redirect to the provider, keyed by the
-- digest of its `state`. The callback consumes its row in one statement
-- (DELETE ... RETURNING), so a state works once, and only until expires_at.
CREATE TABLE oidc_logins (
    state_hash    text PRIMARY KEY,
    nonce         text NOT NULL,
    code_verifier text NOT NULL,
    redirect_uri  text NOT NULL,
    expires_at    timestamp NOT NULL
);
CREATE INDEX oidc_logins_expires_at_idx ON oidc_logins (expires_at);

-- Which person a provider's subject is. Made at their first OIDC sign-in (by
-- email); from then on the subject decides, so an address that the provider
-- later gives to someone else does not open the first person's account.
CREATE TABLE oidc_identities (
    issuer     text NOT NULL,
    subject    text NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
    PRIMARY KEY (issuer, subject),
    UNIQUE (issuer, user_id)
);

-- The provider's discovery document and signing keys (JWKS), cached: every
-- instance shares them, and the keys are fetched again when a token names a
-- key id they lack.
CREATE TABLE oidc_providers (
    issuer          text PRIMARY KEY,
    discovery       text NOT NULL,
    jwks            text NOT NULL,
    fetched_at      timestamp NOT NULL,
    jwks_fetched_at timestamp NOT NULL
);
