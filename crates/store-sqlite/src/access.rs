//! [`AccessLogStore`] on SQLite, in a file of its own.
//!
//! Every read of a person commits an access-log row. Committed into the
//! registry's file, each of those commits changed its WAL, and SQLite then
//! empties the page cache of every other connection at its next read
//! transaction: with a million persons, each status read re-read its index
//! and table pages through system calls, and the commits queued behind
//! registry writes on the one writer connection. So the access log lives in
//! its own database file beside the registry's (`homeward-access.db` beside
//! `homeward.db`, [`path_for`]) with its own connection: reading the log
//! never touches the registry's file, and registry readers keep their cache.
//!
//! Rows that an older homeward wrote into the registry file's `access_log`
//! are moved into the access file when the store opens ([`open`]), in
//! sequence order and keeping their sequence numbers; the registry file's
//! table stays, empty.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use homeward_domain::PersonId;
use homeward_store::{AccessEntry, AccessLogStore, AccessQuery, AccessRecord, StoreError, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SqliteStore, backend_error};

/// The access file's own migrations (its `user_version`).
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../migrations/access/0001_access.sql")),
    M::up(include_str!("../migrations/access/0002_outcome.sql")),
];

/// The access log's file for the registry file `main`: `homeward.db` →
/// `homeward-access.db`, in the same folder.
pub fn path_for(main: &Path) -> PathBuf {
    let stem = main.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    main.with_file_name(format!("{stem}-access.db"))
}

/// Opens (creating if needed) the access file of the registry file that
/// `registry` (its writer connection, migrated) has open, applies its
/// migrations and moves the registry file's access-log rows into it.
pub(crate) fn open(main: &Path, registry: &Connection) -> Result<Connection, StoreError> {
    let path = path_for(main);
    if !path.exists() {
        // Small pages: a commit appends a handful of rows, and each page it
        // touches (the table's last leaf, a leaf of the person index) is
        // written whole to the WAL. Only before the file is in WAL mode.
        Connection::open(&path)
            .and_then(|c| c.execute_batch("PRAGMA page_size = 1024; PRAGMA journal_mode = WAL;"))
            .map_err(backend_error)?;
    }
    let mut c = crate::conn::open(&path)?;
    Migrations::from_slice(MIGRATIONS).to_latest(&mut c).map_err(|e| StoreError::Migration(e.to_string()))?;
    move_rows(registry, &mut c)?;
    relax(&c)?;
    Ok(c)
}

/// Moves the rows of the registry file's `access_log` into the access file,
/// oldest first, keeping their sequence numbers. Safe to repeat after a
/// crash in between (the access file commits first, fully synced; then the
/// registry file deletes what was moved): a row already in the access file
/// under its number is not copied twice. A row whose number the access file
/// holds for *another* entry (written by an older homeward after a newer
/// one had moved the log) is appended with a new number, after the others.
fn move_rows(registry: &Connection, access: &mut Connection) -> Result<u64, StoreError> {
    let any: Option<i64> =
        registry.query_row("SELECT seq FROM access_log LIMIT 1", [], |r| r.get(0)).optional().map_err(backend_error)?;
    if any.is_none() {
        return Ok(0);
    }
    type Row = (i64, i64, Vec<u8>, String, Vec<u8>, String);
    let tx = access.transaction().map_err(backend_error)?;
    let (mut moved, mut last) = (0_u64, i64::MIN);
    let mut clashes: Vec<Row> = Vec::new();
    {
        let mut read = registry
            .prepare("SELECT seq, at, account_id, role, person_id, endpoint FROM access_log ORDER BY seq")
            .map_err(backend_error)?;
        let mut insert = tx
            .prepare(
                "INSERT INTO access_log (seq, at, account_id, role, person_id, endpoint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (seq) DO NOTHING",
            )
            .map_err(backend_error)?;
        let mut same = tx
            .prepare(
                "SELECT count(*) FROM access_log
                 WHERE seq = ?1 AND at = ?2 AND account_id = ?3 AND role = ?4 AND person_id = ?5 AND endpoint = ?6",
            )
            .map_err(backend_error)?;
        let mut rows = read.query([]).map_err(backend_error)?;
        while let Some(r) = rows.next().map_err(backend_error)? {
            let row: Row = (
                r.get(0).map_err(backend_error)?,
                r.get(1).map_err(backend_error)?,
                r.get(2).map_err(backend_error)?,
                r.get(3).map_err(backend_error)?,
                r.get(4).map_err(backend_error)?,
                r.get(5).map_err(backend_error)?,
            );
            last = row.0;
            moved += 1;
            let p = params![row.0, row.1, row.2, row.3, row.4, row.5];
            if insert.execute(p).map_err(backend_error)? == 0 {
                let already: i64 = same.query_row(p, |r| r.get(0)).map_err(backend_error)?;
                if already == 0 {
                    clashes.push(row);
                }
            }
        }
        let mut append = tx
            .prepare("INSERT INTO access_log (at, account_id, role, person_id, endpoint) VALUES (?1, ?2, ?3, ?4, ?5)")
            .map_err(backend_error)?;
        for (_, at, account, role, person, endpoint) in &clashes {
            append.execute(params![at, account, role, person, endpoint]).map_err(backend_error)?;
        }
    }
    // The access file's connection is at `synchronous = FULL` here: the moved
    // rows are on disk before the registry file lets go of them.
    tx.commit().map_err(backend_error)?;
    registry.execute("DELETE FROM access_log WHERE seq <= ?1", [last]).map_err(backend_error)?;
    tracing::info!(rows = moved, "moved the access log into its own file");
    Ok(moved)
}

/// How often the access file's WAL is synced to the disk. Every read's entry
/// is committed to the access file's WAL before the read is answered, so it
/// survives homeward crashing or being killed; but `synchronous = FULL` (an
/// fsync per commit, milliseconds on a virtual disk) would bound the reads
/// per second by the disk's fsyncs, and every read waiting for the group in
/// front of it would wait for that fsync too. So the access connection
/// commits at `synchronous = NORMAL` (no fsync), and a thread of its own
/// ([`Checkpointer`]) checkpoints the WAL into the file this often, on its
/// own connection, which fsyncs the WAL first: a power cut or OS crash can
/// lose at most the entries of about the last second. Writers do not wait
/// for a checkpoint (WAL). docs/ARCHITECTURE.md, "Access log".
pub(crate) const ACCESS_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The access connection's settings: no fsync per commit, and no automatic
/// checkpoint, whose fsyncs would land on whichever commit crossed the WAL's
/// threshold, which may be one run on an async thread
/// ([`SqliteStore::record_access`]); the [`Checkpointer`] does it instead.
fn relax(c: &Connection) -> Result<(), StoreError> {
    c.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;").map_err(backend_error)
}

/// Syncs and checkpoints the access file's WAL every [`ACCESS_SYNC_EVERY`]
/// on a thread of its own, until the store is dropped.
pub(crate) struct Checkpointer;

impl Checkpointer {
    /// Starts the thread for the access file of `main`; it stops within a
    /// period of `alive` having no strong reference left.
    pub(crate) fn start<T: Send + Sync + 'static>(main: &Path, alive: std::sync::Weak<T>) -> Result<(), StoreError> {
        let c = crate::conn::open(&path_for(main))?;
        relax(&c)?;
        std::thread::Builder::new()
            .name("access-log-sync".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(ACCESS_SYNC_EVERY);
                    if alive.upgrade().is_none() {
                        return;
                    }
                    // PASSIVE: copies what no reader needs, never waits for a
                    // writer; with frames to copy, the WAL is fsynced first.
                    if let Err(e) = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(error = %e, "access log checkpoint failed");
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the access log's sync thread: {e}")))?;
        Ok(())
    }
}

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn bad(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, format!("bad {what}").into())
}

fn busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// Runs one cached statement that returns no rows (BEGIN, COMMIT, ...):
/// parsed once per connection, not per transaction.
fn run(c: &Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute([]).map(drop)
}

/// Appends `entries` in one transaction. `wait` false: the transaction does
/// not wait for another process's lock on the file (`Ok(false)`, nothing
/// written), for a call on an async thread.
fn append(c: &Connection, entries: &[AccessEntry], wait: bool) -> Result<bool, StoreError> {
    if !wait {
        c.busy_timeout(std::time::Duration::ZERO).map_err(backend_error)?;
    }
    let begun = run(c, "BEGIN IMMEDIATE");
    if !wait {
        c.busy_timeout(crate::conn::BUSY_TIMEOUT).map_err(backend_error)?;
    }
    match begun {
        Err(e) if !wait && busy(&e) => return Ok(false),
        other => other.map_err(backend_error)?,
    }
    let written = (|| {
        let mut st = c.prepare_cached(
            "INSERT INTO access_log (at, account_id, role, person_id, endpoint, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for e in entries {
            st.execute(params![
                ms(e.at),
                e.user.0.as_bytes(),
                e.role,
                e.person.0.as_bytes(),
                e.endpoint,
                e.outcome.as_str()
            ])?;
        }
        run(c, "COMMIT")
    })();
    if let Err(e) = written {
        if !c.is_autocommit() {
            let _ = run(c, "ROLLBACK");
        }
        return Err(backend_error(e));
    }
    Ok(true)
}

#[async_trait]
impl AccessLogStore for SqliteStore {
    async fn record_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        // A commit at `synchronous = NORMAL` takes microseconds (a write to
        // the WAL, no fsync, no checkpoint): less than the hop to the
        // blocking pool and back, so it runs here when the connection is free
        // and no other process holds the file's write lock.
        if let Ok(guard) = self.access.try_lock()
            && append(&guard, entries, false)?
        {
            return Ok(());
        }
        let entries = entries.to_vec();
        let guard = self.access.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || append(&guard, &entries, true).map(drop))
            .await
            .map_err(crate::join_error)?
    }

    async fn access_log(&self, q: &AccessQuery) -> Result<Vec<AccessRecord>, StoreError> {
        let (before, person, limit) = (q.before, q.person.map(|p| p.0.as_bytes().to_vec()), q.limit.clamp(1, 1000));
        let guard = self.access.clone().lock_owned().await;
        let mut records = tokio::task::spawn_blocking(move || {
            let mut st = guard
                .prepare_cached(
                    "SELECT seq, at, account_id, role, person_id, endpoint, outcome FROM access_log
                     WHERE (?1 IS NULL OR seq < ?1) AND (?2 IS NULL OR person_id = ?2)
                     ORDER BY seq DESC LIMIT ?3",
                )
                .map_err(backend_error)?;
            st.query_map(params![before, person, limit], |r| {
                let at: i64 = r.get(1)?;
                let user: Vec<u8> = r.get(2)?;
                let person: Vec<u8> = r.get(4)?;
                Ok(AccessRecord {
                    seq: r.get(0)?,
                    at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
                        .map_err(|_| bad("timestamp"))?,
                    user: UserId(Uuid::from_slice(&user).map_err(|_| bad("account id"))?),
                    username: None,
                    role: r.get(3)?,
                    person: PersonId(Uuid::from_slice(&person).map_err(|_| bad("person id"))?),
                    endpoint: r.get(5)?,
                    outcome: r.get::<_, String>(6)?.parse().map_err(|()| bad("outcome"))?,
                })
            })
            .map_err(backend_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend_error)
        })
        .await
        .map_err(crate::join_error)??;
        // The usernames are in the registry file: one lookup per account
        // named on the page (an account since deleted has none).
        let mut accounts: Vec<UserId> = records.iter().map(|r| r.user).collect();
        accounts.sort_unstable_by_key(|u| u.0);
        accounts.dedup();
        let names = self
            .read(move |c| {
                let mut st = c.prepare_cached("SELECT username FROM account WHERE id = ?1").map_err(backend_error)?;
                accounts
                    .into_iter()
                    .map(|u| Ok((u, st.query_row([u.0.as_bytes()], |r| r.get::<_, String>(0)).optional()?)))
                    .collect::<Result<std::collections::HashMap<_, _>, rusqlite::Error>>()
                    .map_err(backend_error)
            })
            .await?;
        for r in &mut records {
            r.username = names.get(&r.user).cloned().flatten();
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use homeward_domain::PersonId;
    use homeward_store::{AccessEntry, AccessLogStore, AccessQuery, UserId};
    use rusqlite::Connection;

    use crate::SqliteStore;

    fn entry(n: u128) -> AccessEntry {
        AccessEntry {
            at: time::OffsetDateTime::now_utc(),
            user: UserId(uuid::Uuid::from_u128(1)),
            role: "mediator".into(),
            person: PersonId(uuid::Uuid::from_u128(n)),
            endpoint: "GET /api/v1/persons/{id}".into(),
            outcome: homeward_store::AccessOutcome::Shown,
        }
    }

    /// A fresh folder, removed when dropped.
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new() -> Self {
            let d = std::env::temp_dir().join(format!("hw-access-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&d).unwrap();
            Self(d)
        }
        fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn count(db: &std::path::Path, sql: &str) -> i64 {
        Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Access-log commits go to the access file only: the registry file's
    /// WAL is unchanged by them (its readers keep their page cache), the
    /// registry writer stays at FULL, the access connection commits at
    /// NORMAL, and every entry is readable once `record_access` returns.
    /// Within about ACCESS_SYNC_EVERY the WAL is checkpointed into the
    /// access file (synced) by the store's own thread.
    #[tokio::test]
    async fn access_commits_go_to_their_own_file_and_are_synced_within_a_second() {
        let dir = TempDir::new();
        let main = dir.path().join("homeward.db");
        let file = dir.path().join("homeward-access.db");
        let store = SqliteStore::open(&main).await.unwrap();
        assert_eq!(super::path_for(&main), file);
        let data_version = |c: &Connection| c.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)).unwrap();
        let sync = |c: &Connection| c.pragma_query_value(None, "synchronous", |r| r.get::<_, i64>(0)).unwrap();
        let before = data_version(&*store.readers[0].lock().await);
        let size = || std::fs::metadata(&file).unwrap().len();
        let empty = size();
        let started = std::time::Instant::now();
        for n in 0..300 {
            store.record_access(&[entry(n)]).await.unwrap();
        }
        assert_eq!(sync(&*store.access.lock().await), 1, "access file NORMAL");
        let page = store.access.lock().await.pragma_query_value(None, "page_size", |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(page, 1024, "small pages in the access file");
        assert_eq!(sync(&*store.writer.lock().await), 2, "registry writer FULL");
        // data_version changes on a connection when another one commits to its file.
        assert_eq!(data_version(&*store.readers[0].lock().await), before, "the registry file was not written");
        let q = AccessQuery { before: None, person: None, limit: 1000 };
        assert_eq!(store.access_log(&q).await.unwrap().len(), 300);
        if started.elapsed() < super::ACCESS_SYNC_EVERY / 2 {
            assert_eq!(size(), empty, "no checkpoint on the commits themselves");
        }
        let deadline = started + 3 * super::ACCESS_SYNC_EVERY;
        while size() == empty {
            assert!(std::time::Instant::now() < deadline, "the WAL was not checkpointed into the file");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        drop(store);
        assert_eq!(count(&main, "SELECT count(*) FROM access_log"), 0);
        assert_eq!(count(&file, "SELECT count(*) FROM access_log"), 300);
    }

    /// Rows an older homeward wrote into the registry file move into the
    /// access file at open, in order and with their numbers, and the
    /// usernames still resolve; a move interrupted after the access file's
    /// commit is finished without copying twice, and a number the access file
    /// holds for another entry gets the entry appended instead.
    #[tokio::test]
    async fn rows_in_the_registry_file_move_into_the_access_file_at_open() {
        let dir = TempDir::new();
        let main = dir.path().join("homeward.db");
        let access = dir.path().join("homeward-access.db");
        drop(SqliteStore::open(&main).await.unwrap());
        for f in ["homeward-access.db", "homeward-access.db-wal", "homeward-access.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        // The old layout: five rows in the registry file, one account known.
        let old = Connection::open(&main).unwrap();
        old.execute_batch(
            "INSERT INTO account VALUES (x'00000000000000000000000000000001', 'officer-a', 'party_officer', 'A', 'h', 0, 1);
             INSERT INTO access_log (at, account_id, role, person_id, endpoint) VALUES
               (10, x'00000000000000000000000000000001', 'party_officer', x'000000000000000000000000000000a1', 'e1'),
               (20, x'00000000000000000000000000000002', 'mediator', x'000000000000000000000000000000a2', 'e2'),
               (30, x'00000000000000000000000000000001', 'party_officer', x'000000000000000000000000000000a3', 'e3');
             DELETE FROM access_log WHERE seq = 2;
             INSERT INTO access_log (at, account_id, role, person_id, endpoint) VALUES
               (40, x'00000000000000000000000000000002', 'mediator', x'000000000000000000000000000000a4', 'e4');",
        )
        .unwrap();
        drop(old);
        let store = SqliteStore::open(&main).await.unwrap();
        let q = AccessQuery { before: None, person: None, limit: 10 };
        let log = store.access_log(&q).await.unwrap();
        let seen: Vec<_> = log.iter().map(|r| (r.seq, r.endpoint.as_str(), r.username.as_deref())).collect();
        assert_eq!(seen, [(4, "e4", None), (3, "e3", Some("officer-a")), (1, "e1", Some("officer-a"))]);
        assert_eq!(log[2].at.unix_timestamp_nanos(), 10_000_000);
        assert_eq!(count(&main, "SELECT count(*) FROM access_log"), 0, "moved, not copied");
        // New entries follow the moved ones.
        store.record_access(&[entry(7)]).await.unwrap();
        assert_eq!(store.access_log(&q).await.unwrap()[0].seq, 5);
        drop(store);

        // Interrupted: rows 1 and 3 were committed into the access file, the
        // registry file still has them (and 6, and a 5 of its own, which an
        // older homeward wrote after the move).
        let old = Connection::open(&main).unwrap();
        old.execute_batch(
            "INSERT INTO access_log SELECT 1, 10, x'00000000000000000000000000000001', 'party_officer', x'000000000000000000000000000000a1', 'e1';
             INSERT INTO access_log SELECT 3, 30, x'00000000000000000000000000000001', 'party_officer', x'000000000000000000000000000000a3', 'e3';
             INSERT INTO access_log SELECT 5, 50, x'00000000000000000000000000000002', 'mediator', x'000000000000000000000000000000a5', 'e5';
             INSERT INTO access_log SELECT 6, 60, x'00000000000000000000000000000002', 'mediator', x'000000000000000000000000000000a6', 'e6';",
        )
        .unwrap();
        drop(old);
        let store = SqliteStore::open(&main).await.unwrap();
        let log = store.access_log(&q).await.unwrap();
        let seen: Vec<_> = log.iter().map(|r| (r.seq, r.endpoint.as_str())).collect();
        assert_eq!(seen, [(7, "e5"), (6, "e6"), (5, "GET /api/v1/persons/{id}"), (4, "e4"), (3, "e3"), (1, "e1")]);
        assert_eq!(count(&main, "SELECT count(*) FROM access_log"), 0);
        drop(store);
        assert_eq!(count(&access, "SELECT count(*) FROM access_log"), 6);
    }
}
