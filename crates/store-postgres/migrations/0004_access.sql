-- The access log: every read of a person's record (who, when, which record,
-- through which endpoint). Append-only; ids only, no names.
CREATE TABLE access_log (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    account_id UUID NOT NULL,
    role       TEXT NOT NULL,
    person_id  UUID NOT NULL,
    endpoint   TEXT NOT NULL
);

CREATE INDEX access_log_person ON access_log (person_id, seq);
