-- The registry: the conflict's setup, persons, each source's identity
-- versions (never overwritten) and the append-only status timeline.
-- Mirrors crates/store-sqlite/migrations/0001_registry.sql.
CREATE TABLE conflict (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE party (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('party', 'mediator'))
);

CREATE TABLE handover_point (
    code    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    country TEXT NOT NULL
);

CREATE TABLE person (
    id                UUID PRIMARY KEY,
    status            TEXT NOT NULL,
    status_seq        INTEGER NOT NULL,
    primary_source    TEXT NOT NULL REFERENCES party (code),
    primary_record_id TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE identity_version (
    source                 TEXT NOT NULL REFERENCES party (code),
    record_id              TEXT NOT NULL,
    version                INTEGER NOT NULL CHECK (version >= 1),
    person_id              UUID NOT NULL REFERENCES person (id),
    recorded_at            TIMESTAMPTZ NOT NULL,
    fingerprint            BYTEA NOT NULL,
    family_name            TEXT NOT NULL,
    given_names            TEXT NOT NULL,
    patronymic             TEXT,
    mother_maiden_name     TEXT,
    birth_date             TEXT,
    place_of_birth         TEXT,
    rank                   TEXT,
    service_number         TEXT,
    unit                   TEXT,
    power                  TEXT NOT NULL REFERENCES party (code),
    category               TEXT NOT NULL CHECK (category IN ('military', 'civilian')),
    person_to_inform       TEXT,
    correspondence_address TEXT,
    PRIMARY KEY (source, record_id, version)
);

CREATE INDEX identity_version_person ON identity_version (person_id);

CREATE TABLE status_event (
    person_id   UUID NOT NULL REFERENCES person (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    status      TEXT NOT NULL,
    occurred_on TEXT,
    place       TEXT,
    details     TEXT,
    reported_by TEXT NOT NULL REFERENCES party (code),
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, seq)
);
