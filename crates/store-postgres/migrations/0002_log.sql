-- The shared log: every change appends an entry in its own transaction;
-- the sequencer gives entries their leaf index and stores the tree's hashes.
-- Mirrors crates/store-sqlite/migrations/0002_log.sql.
ALTER TABLE conflict ADD COLUMN log_id BIGINT;
ALTER TABLE identity_version ADD COLUMN id TEXT;
ALTER TABLE identity_version ADD COLUMN log_id BIGINT;
ALTER TABLE status_event ADD COLUMN log_id BIGINT;

CREATE UNIQUE INDEX identity_version_id ON identity_version (id);

CREATE TABLE log_entry (
    id          BIGSERIAL PRIMARY KEY,
    leaf_index  BIGINT UNIQUE,
    time_ms     BIGINT NOT NULL,
    actor_role  TEXT NOT NULL,
    actor_party TEXT,
    event_type  TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    salt        BYTEA NOT NULL,
    commitment  BYTEA NOT NULL
);

CREATE INDEX log_entry_pending ON log_entry (id) WHERE leaf_index IS NULL;

CREATE TABLE log_hash (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

CREATE TABLE log_tree (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    root BYTEA NOT NULL
);

-- The empty tree: SHA-256 of nothing (RFC 9162 section 2.1.1).
INSERT INTO log_tree (id, size, root)
VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea);

CREATE TABLE log_checkpoint (
    size       BIGINT PRIMARY KEY,
    note       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
