//! Migrations, embedded in the binary and applied at start and by `homeward migrate`.
//!
//! rusqlite_migration keeps the schema version in SQLite's `user_version`;
//! each migration runs in a transaction.

use homeward_store::StoreError;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../migrations/0001_registry.sql")),
    M::up(include_str!("../migrations/0002_log.sql")),
    M::up(include_str!("../migrations/0003_accounts.sql")),
    M::up(include_str!("../migrations/0004_access.sql")),
    M::up(include_str!("../migrations/0005_tracing.sql")),
    M::up(include_str!("../migrations/0006_import_jobs.sql")),
];

/// Applies what is pending; returns the schema version now in force.
pub(crate) fn migrate(c: &mut Connection) -> Result<usize, StoreError> {
    let migrations = Migrations::from_slice(MIGRATIONS);
    migrations.to_latest(c).map_err(|e| StoreError::Migration(e.to_string()))?;
    let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(crate::backend_error)?;
    Ok(usize::try_from(version).unwrap_or_default())
}
