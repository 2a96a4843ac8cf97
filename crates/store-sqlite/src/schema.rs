//! Migrations, embedded in the binary and applied at start and by `homeward migrate`.
//!
//! rusqlite_migration keeps the schema version in SQLite's `user_version`;
//! each migration runs in a transaction.

use homeward_store::StoreError;
use rusqlite::{Connection, OptionalExtension};
use rusqlite_migration::{M, Migrations};

const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../migrations/0001_registry.sql")),
    M::up(include_str!("../migrations/0002_log.sql")),
    M::up(include_str!("../migrations/0003_accounts.sql")),
    M::up(include_str!("../migrations/0004_access.sql")),
    M::up(include_str!("../migrations/0005_tracing.sql")),
    M::up(include_str!("../migrations/0006_import_jobs.sql")),
    M::up(include_str!("../migrations/0007_caseworker_bureau.sql")),
    M::up(include_str!("../migrations/0008_log_v2.sql")),
];

/// Applies what is pending; returns the schema version now in force.
pub(crate) fn migrate(c: &mut Connection) -> Result<usize, StoreError> {
    let migrations = Migrations::from_slice(MIGRATIONS);
    // A migration that rebuilds a table (SQLite cannot alter a CHECK) must
    // run with foreign keys off, or dropping the old table would check (or
    // cascade) its children; SQLite ignores the pragma inside a transaction,
    // so it is set here, around them, and the keys are checked after.
    let version = |c: &Connection| -> Result<i64, StoreError> {
        c.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(crate::backend_error)
    };
    let before = version(c)?;
    c.pragma_update(None, "foreign_keys", false).map_err(crate::backend_error)?;
    let migrated = migrations.to_latest(c).map_err(|e| StoreError::Migration(e.to_string()));
    // Checked only when a migration ran: the check reads every table whole
    // (3.3 s at a million persons, on every command and every start).
    let broken: Option<String> = if version(c)? == before {
        None
    } else {
        c.query_row("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(crate::backend_error)?
    };
    c.pragma_update(None, "foreign_keys", true).map_err(crate::backend_error)?;
    migrated?;
    if let Some(table) = broken {
        return Err(StoreError::Migration(format!("a foreign key in {table} points nowhere after migrating")));
    }
    Ok(usize::try_from(version(c)?).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0007 rebuilds `account` and `api_token`: accounts, sessions and
    /// tokens made before it survive with their keys intact, and a
    /// caseworker may then carry a bureau (but a family still may not).
    #[test]
    fn rebuilding_the_account_tables_keeps_their_rows_and_keys() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", true).unwrap();
        Migrations::from_slice(&MIGRATIONS[..6]).to_latest(&mut c).unwrap();
        c.execute_batch(
            "INSERT INTO account VALUES (x'01', 'officer-a', 'party_officer', 'A', 'h', 0, 1);
             INSERT INTO account VALUES (x'02', 'caseworker', 'caseworker', NULL, 'h', 0, 1);
             INSERT INTO account_session VALUES (zeroblob(32), x'01', 1, 2, 1);
             INSERT INTO api_token VALUES (x'03', randomblob(32), 't', x'02', 'caseworker', NULL, 1, NULL);",
        )
        .unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len());
        let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(count("SELECT count(*) FROM account"), 2);
        assert_eq!(count("SELECT count(*) FROM account_session WHERE account_id = x'01'"), 1);
        assert_eq!(count("SELECT count(*) FROM api_token WHERE account_id = x'02'"), 1);
        assert_eq!(count("SELECT count(*) FROM pragma_foreign_key_check"), 0);
        assert_eq!(count("PRAGMA foreign_keys"), 1, "foreign keys are on again");
        // A session of no account is still refused.
        assert!(c.execute("INSERT INTO account_session VALUES (randomblob(32), x'09', 1, 2, 1)", []).is_err());
        c.execute("INSERT INTO account VALUES (x'04', 'desk-a', 'caseworker', 'A', 'h', 0, 1)", []).unwrap();
        assert!(c.execute("INSERT INTO account VALUES (x'05', 'fam', 'family', 'A', 'h', 0, 1)", []).is_err());
        assert!(c.execute("INSERT INTO account VALUES (x'06', 'off', 'party_officer', NULL, 'h', 0, 1)", []).is_err());
    }

    /// The foreign keys are checked after a migration ran, and only then:
    /// the check reads every table whole, seconds at a million persons.
    #[test]
    fn foreign_keys_are_checked_when_a_migration_ran_and_only_then() {
        let orphan = "INSERT INTO account_session VALUES (randomblob(32), x'09', 1, 2, 1)";
        let mut c = Connection::open_in_memory().unwrap();
        Migrations::from_slice(&MIGRATIONS[..6]).to_latest(&mut c).unwrap();
        c.pragma_update(None, "foreign_keys", false).unwrap();
        c.execute(orphan, []).unwrap();
        let refused = migrate(&mut c);
        assert!(matches!(&refused, Err(StoreError::Migration(m)) if m.contains("account_session")), "{refused:?}");

        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        c.pragma_update(None, "foreign_keys", false).unwrap();
        c.execute(orphan, []).unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len(), "an up-to-date file is not checked whole");
    }
}
