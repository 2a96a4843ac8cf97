-- Import jobs: a CSV upload imported in the background. The report holds
-- line, field and reason only, never a value from the file.
CREATE TABLE import_job (
    id          UUID PRIMARY KEY,
    started_by  UUID NOT NULL,
    source      TEXT NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    state       TEXT NOT NULL
                CHECK (state IN ('queued', 'running', 'committed', 'validated', 'rejected', 'interrupted')),
    rows_read   BIGINT NOT NULL DEFAULT 0,
    bytes_read  BIGINT NOT NULL DEFAULT 0,
    total_bytes BIGINT NOT NULL,
    report      TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX import_job_live ON import_job (state) WHERE state IN ('queued', 'running');
