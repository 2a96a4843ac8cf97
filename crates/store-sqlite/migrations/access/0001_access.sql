-- The access log in its own file (`<name>-access.db` beside `<name>.db`):
-- every read of a person's record (who, when, which record, through which
-- endpoint). Append-only; ids only, no names. Times are Unix milliseconds.
-- The same table as the registry file's 0004 (whose rows are moved here),
-- but for AUTOINCREMENT: no row is ever deleted, so the next rowid (the
-- largest plus one) already never reuses a number, and a commit does not
-- also rewrite `sqlite_sequence`'s page.
CREATE TABLE access_log (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    account_id BLOB NOT NULL,
    role       TEXT NOT NULL,
    person_id  BLOB NOT NULL,
    endpoint   TEXT NOT NULL
) STRICT;

CREATE INDEX access_log_person ON access_log (person_id, seq);
