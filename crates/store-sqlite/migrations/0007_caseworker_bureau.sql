-- A caseworker works the mediator's desk or a party's bureau (DESIGN.md's
-- roles table), so a caseworker's account and its tokens may carry a party:
-- required for a party officer, optional for a caseworker, refused for the
-- other roles. SQLite cannot alter a CHECK, so both tables are rebuilt as
-- its documentation describes (schema.rs turns foreign keys off around the
-- migrations and checks them after).
CREATE TABLE account_new (
    id            BLOB PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL
                  CHECK (role IN ('mediator', 'party_officer', 'caseworker', 'family', 'auditor', 'admin')),
    party         TEXT,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    CHECK (CASE role WHEN 'party_officer' THEN party IS NOT NULL WHEN 'caseworker' THEN 1 ELSE party IS NULL END)
) STRICT, WITHOUT ROWID;
INSERT INTO account_new (id, username, role, party, password_hash, disabled, created_at)
    SELECT id, username, role, party, password_hash, disabled, created_at FROM account;
DROP TABLE account;
ALTER TABLE account_new RENAME TO account;

CREATE TABLE api_token_new (
    id          BLOB PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    name        TEXT NOT NULL,
    account_id  BLOB NOT NULL REFERENCES account (id),
    scope_role  TEXT NOT NULL
                CHECK (scope_role IN ('mediator', 'party_officer', 'caseworker', 'family', 'auditor', 'admin')),
    scope_party TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    CHECK (CASE scope_role WHEN 'party_officer' THEN scope_party IS NOT NULL WHEN 'caseworker' THEN 1
                           ELSE scope_party IS NULL END)
) STRICT, WITHOUT ROWID;
INSERT INTO api_token_new (id, token_hash, name, account_id, scope_role, scope_party, created_at, revoked_at)
    SELECT id, token_hash, name, account_id, scope_role, scope_party, created_at, revoked_at FROM api_token;
DROP TABLE api_token;
ALTER TABLE api_token_new RENAME TO api_token;
CREATE INDEX api_token_account ON api_token (account_id);
