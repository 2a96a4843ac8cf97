-- The live matching index follows the log: identity versions by log entry.
CREATE INDEX identity_version_log ON identity_version (log_id);

-- Families' tracing requests (docs/TRACING.md). The row's status, desk,
-- link and disclosure are a cache of its tracing events, which are
-- append-only and logged; the enquirer's contact is sealed (hw1:...).
-- Times are Unix milliseconds. No foreign key from owner to account:
-- accounts are not case data (the store checks nothing about them).
CREATE TABLE tracing_request (
    id            BLOB PRIMARY KEY,
    owner         BLOB NOT NULL,
    enquirer_name TEXT NOT NULL,
    relationship  TEXT NOT NULL,
    contact       TEXT NOT NULL,
    sought        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('open', 'candidates', 'confirmed', 'closed')),
    desk          TEXT NOT NULL,
    linked_person BLOB REFERENCES person (id),
    disclosure    TEXT CHECK (disclosure IN ('fate', 'status')),
    created_at    INTEGER NOT NULL,
    consent_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX tracing_request_owner ON tracing_request (owner);
CREATE INDEX tracing_request_desk ON tracing_request (desk);

CREATE TABLE tracing_event (
    request_id BLOB NOT NULL REFERENCES tracing_request (id),
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    content    TEXT NOT NULL, -- JSON, without the contact
    contact    TEXT,          -- sealed; the filing event only
    log_id     INTEGER,
    PRIMARY KEY (request_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX tracing_event_log ON tracing_event (log_id);

CREATE TABLE match_candidate (
    request_id  BLOB NOT NULL REFERENCES tracing_request (id),
    person_id   BLOB NOT NULL REFERENCES person (id),
    probability REAL NOT NULL,
    explanation TEXT NOT NULL,
    decision    TEXT CHECK (decision IN ('confirmed', 'rejected')),
    PRIMARY KEY (request_id, person_id)
) STRICT, WITHOUT ROWID;

-- Durable watermarks of background jobs (matching): a restart resumes.
CREATE TABLE job_state (
    job       TEXT PRIMARY KEY,
    watermark INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
