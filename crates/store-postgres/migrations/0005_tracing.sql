-- The live matching index follows the log: identity versions by log entry.
CREATE INDEX identity_version_log ON identity_version (log_id);

-- Families' tracing requests (docs/TRACING.md); see SQLite's 0005 for the notes.
CREATE TABLE tracing_request (
    id            UUID PRIMARY KEY,
    owner         UUID NOT NULL,
    enquirer_name TEXT NOT NULL,
    relationship  TEXT NOT NULL,
    contact       TEXT NOT NULL,
    sought        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('open', 'candidates', 'confirmed', 'closed')),
    desk          TEXT NOT NULL,
    linked_person UUID REFERENCES person (id),
    disclosure    TEXT CHECK (disclosure IN ('fate', 'status')),
    created_at    BIGINT NOT NULL,
    consent_at    BIGINT NOT NULL
);
CREATE INDEX tracing_request_owner ON tracing_request (owner);
CREATE INDEX tracing_request_desk ON tracing_request (desk);

CREATE TABLE tracing_event (
    request_id UUID NOT NULL REFERENCES tracing_request (id),
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    content    TEXT NOT NULL,
    contact    TEXT,
    log_id     BIGINT,
    PRIMARY KEY (request_id, seq)
);
CREATE INDEX tracing_event_log ON tracing_event (log_id);

CREATE TABLE match_candidate (
    request_id  UUID NOT NULL REFERENCES tracing_request (id),
    person_id   UUID NOT NULL REFERENCES person (id),
    probability DOUBLE PRECISION NOT NULL,
    explanation TEXT NOT NULL,
    decision    TEXT CHECK (decision IN ('confirmed', 'rejected')),
    PRIMARY KEY (request_id, person_id)
);

CREATE TABLE job_state (
    job       TEXT PRIMARY KEY,
    watermark BIGINT NOT NULL
);
