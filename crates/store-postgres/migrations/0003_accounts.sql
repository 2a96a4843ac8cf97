-- Accounts: users, web sessions, API tokens, failed logins.
-- Mirrors crates/store-sqlite/migrations/0003_accounts.sql.
-- Session and token secrets are stored as their SHA-256 only; passwords as
-- Argon2id PHC strings. No foreign key from account.party to party: the
-- conflict's setup may be replaced before it has records, and the store
-- checks the party when the account is created.
CREATE TABLE account (
    id            UUID PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL
                  CHECK (role IN ('mediator', 'party_officer', 'caseworker', 'family', 'auditor', 'admin')),
    party         TEXT,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    CHECK ((role = 'party_officer') = (party IS NOT NULL))
);

CREATE TABLE account_session (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id UUID NOT NULL REFERENCES account (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL
);

CREATE INDEX account_session_account ON account_session (account_id);
CREATE INDEX account_session_expires ON account_session (expires_at);

CREATE TABLE api_token (
    id          UUID PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    name        TEXT NOT NULL,
    account_id  UUID NOT NULL REFERENCES account (id),
    scope_role  TEXT NOT NULL
                CHECK (scope_role IN ('mediator', 'party_officer', 'caseworker', 'family', 'auditor', 'admin')),
    scope_party TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    CHECK ((scope_role = 'party_officer') = (scope_party IS NOT NULL))
);

CREATE INDEX api_token_account ON api_token (account_id);

-- Failed logins per throttling key (the SHA-256 of "account:NAME" or
-- "address:IP", so that a password typed into the username field is not kept).
CREATE TABLE login_failure (
    key BYTEA NOT NULL,
    at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX login_failure_key_at ON login_failure (key, at);
