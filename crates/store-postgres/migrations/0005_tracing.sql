-- The live matching index follows the log: identity versions by log entry.
CREATE INDEX identity_version_log ON identity_version (log_id);
