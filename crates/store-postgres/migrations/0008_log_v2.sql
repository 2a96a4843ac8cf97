-- Leaf version 2 (docs/LOG.md): each entry carries a MAC under a key kept
-- outside the database; entries written before have none and keep their
-- version 1 leaves. With concurrent writers an entry's time can be earlier
-- than the leaf before it; the sequencer gives each leaf the later of the
-- two (leaf_time_ms), so leaf times never go backwards. Mirrors
-- crates/store-sqlite/migrations/0008_log_v2.sql (where one writer appends
-- in time order and the leaf's time is the entry's).
ALTER TABLE log_entry ADD COLUMN mac BYTEA;
ALTER TABLE log_entry ADD COLUMN leaf_time_ms BIGINT;
UPDATE log_entry SET leaf_time_ms = time_ms WHERE leaf_index IS NOT NULL;
