-- Import jobs (a CSV upload imported in the background), and keyed identity
-- fingerprints (below). The report holds
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

-- Keyed identity fingerprints. A fingerprint tells an unchanged re-import
-- from a changed one; unkeyed (SHA-256 of the canonical identity, contact
-- fields included) it let anyone with a database copy confirm a guessed
-- phone number or address. New rows hold HMAC-SHA256 under the key in
-- DATA_DIR/fingerprint.key (scheme 1, the default). Rows written before hold
-- the unkeyed hash (scheme 0): the import still recognises them, and the
-- store re-keys them when it opens with the key (`rekey_fingerprints`).
ALTER TABLE identity_version ADD COLUMN fingerprint_scheme INTEGER NOT NULL DEFAULT 1;
UPDATE identity_version SET fingerprint_scheme = 0;
CREATE INDEX identity_version_unkeyed ON identity_version (source, record_id, version) WHERE fingerprint_scheme = 0;
