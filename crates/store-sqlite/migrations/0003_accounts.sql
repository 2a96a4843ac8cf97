-- Accounts: users, web sessions, API tokens, failed logins.
-- Session and token secrets are stored as their SHA-256 only; passwords as
-- Argon2id PHC strings. Times are Unix milliseconds (INTEGER): expiry checks
-- are plain comparisons. No foreign key from account.party to party: the
-- conflict's setup may be replaced before it has records, and the store
-- checks the party when the account is created.
CREATE TABLE account (
    id            BLOB PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL
                  CHECK (role IN ('mediator', 'party_officer', 'caseworker', 'family', 'auditor', 'admin')),
    party         TEXT,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    CHECK ((role = 'party_officer') = (party IS NOT NULL))
) STRICT, WITHOUT ROWID;

CREATE TABLE account_session (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id BLOB NOT NULL REFERENCES account (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX account_session_account ON account_session (account_id);
CREATE INDEX account_session_expires ON account_session (expires_at);

CREATE TABLE api_token (
    id          BLOB PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    name        TEXT NOT NULL,
    account_id  BLOB NOT NULL REFERENCES account (id),
    scope_role  TEXT NOT NULL
                CHECK (scope_role IN ('mediator', 'party_officer', 'caseworker', 'family', 'auditor', 'admin')),
    scope_party TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CHECK ((scope_role = 'party_officer') = (scope_party IS NOT NULL))
) STRICT, WITHOUT ROWID;

CREATE INDEX api_token_account ON api_token (account_id);

-- Failed logins per throttling key (the SHA-256 of "account:NAME" or
-- "address:IP", so that a password typed into the username field is not kept).
CREATE TABLE login_failure (
    key BLOB NOT NULL,
    at  INTEGER NOT NULL
) STRICT;

CREATE INDEX login_failure_key_at ON login_failure (key, at);
