-- Leaf version 2 (docs/LOG.md): each entry carries a MAC under a key kept
-- outside the database; entries written before have none and keep their
-- version 1 leaves. Leaves no longer name records, so nothing here changes
-- for entries already sequenced.
ALTER TABLE log_entry ADD COLUMN mac BLOB;
