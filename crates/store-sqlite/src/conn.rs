//! Opening connections with the settings every connection needs.

use std::path::Path;

use homeward_store::StoreError;
use rusqlite::Connection;

/// How long a statement waits for another connection's lock on the file.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    let c = Connection::open(path)
        .map_err(|e| StoreError::Backend(format!("cannot open SQLite database {}: {e}", path.display())))?;
    // WAL: readers never block the writer. FULL: a commit is on disk when it returns.
    c.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -32768;",
    )
    .map_err(backend_error)?;
    c.busy_timeout(BUSY_TIMEOUT).map_err(backend_error)?;
    c.set_prepared_statement_cache_capacity(64);
    Ok(c)
}

/// SQLite's messages can quote values from a row; they are logged at debug
/// level only, and the caller gets the error code's description.
pub(crate) fn backend_error(e: rusqlite::Error) -> StoreError {
    tracing::debug!(error = %e, "sqlite error");
    let summary = match &e {
        rusqlite::Error::SqliteFailure(code, _) => format!("SQLite: {code}"),
        other => format!("SQLite: {}", kind_only(other)),
    };
    StoreError::Database { summary, source: Box::new(e) }
}

fn kind_only(e: &rusqlite::Error) -> &'static str {
    match e {
        rusqlite::Error::QueryReturnedNoRows => "no rows",
        rusqlite::Error::InvalidColumnType(..) => "invalid column type",
        rusqlite::Error::FromSqlConversionFailure(..) => "value conversion failed",
        _ => "statement failed",
    }
}
