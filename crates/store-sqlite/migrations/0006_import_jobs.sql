-- Import jobs: a CSV upload imported in the background. The report holds
-- line, field and reason only, never a value from the file. Times are Unix
-- milliseconds.
CREATE TABLE import_job (
    id          BLOB PRIMARY KEY,
    started_by  BLOB NOT NULL,
    source      TEXT NOT NULL,
    dry_run     INTEGER NOT NULL,
    state       TEXT NOT NULL
                CHECK (state IN ('queued', 'running', 'committed', 'validated', 'rejected', 'interrupted')),
    rows_read   INTEGER NOT NULL DEFAULT 0,
    bytes_read  INTEGER NOT NULL DEFAULT 0,
    total_bytes INTEGER NOT NULL,
    report      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX import_job_live ON import_job (state) WHERE state IN ('queued', 'running');
