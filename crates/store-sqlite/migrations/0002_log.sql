-- The shared log: every change appends an entry in its own transaction;
-- the sequencer gives entries their leaf index and stores the tree's hashes.
-- Records point to their entry (log_id), so an audit joins on integers.
ALTER TABLE conflict ADD COLUMN log_id INTEGER;
ALTER TABLE identity_version ADD COLUMN id TEXT;
ALTER TABLE identity_version ADD COLUMN log_id INTEGER;
ALTER TABLE status_event ADD COLUMN log_id INTEGER;

CREATE UNIQUE INDEX identity_version_id ON identity_version (id);

-- On SQLite there is one writer, so entry ids are assigned densely from 1
-- in commit order, and an entry's leaf index is simply id - 1 once the tree
-- has grown past it (log_tree.size): sequencing writes no entry rows at all.
-- (PostgreSQL, with concurrent writers and gaps in sequences, stores the
-- leaf index; see its 0002_log.sql.)
CREATE TABLE log_entry (
    id          INTEGER PRIMARY KEY,
    time_ms     INTEGER NOT NULL,
    actor_role  TEXT NOT NULL,
    actor_party TEXT,
    event_type  TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    salt        BLOB NOT NULL,
    commitment  BLOB NOT NULL
) STRICT;

-- Stored hashes in the layout of homeward_tlog::tree (about two per leaf).
CREATE TABLE log_hash (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
) STRICT;

CREATE TABLE log_tree (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL,
    root BLOB NOT NULL
) STRICT;

-- The empty tree: SHA-256 of nothing (RFC 9162 section 2.1.1).
INSERT INTO log_tree (id, size, root)
VALUES (1, 0, X'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855');

CREATE TABLE log_checkpoint (
    size       INTEGER PRIMARY KEY,
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
