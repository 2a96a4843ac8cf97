//! [`AccessLogStore`] on SQLite: appended on the writer, read on a reader.

use async_trait::async_trait;
use homeward_domain::PersonId;
use homeward_store::{AccessEntry, AccessLogStore, AccessQuery, AccessRecord, StoreError, UserId};
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SqliteStore, backend_error};

/// How often an access-log commit waits for the disk. Every read's entry is
/// committed to the WAL before the read is answered, so it survives homeward
/// crashing or being killed; but `synchronous = FULL` (an fsync per commit,
/// milliseconds on a virtual disk) would bound the reads per second by the
/// disk's fsyncs. So access-log commits run at `synchronous = NORMAL`, except
/// one at least this often (and every registry commit, which stays FULL and
/// fsyncs the WAL up to itself): a power cut or OS crash can lose at most the
/// entries of the last second. docs/ARCHITECTURE.md, "Access log".
const ACCESS_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// `synchronous = NORMAL` on the writer until dropped, then FULL again, even
/// when the transaction in between failed.
struct Relaxed<'c>(&'c Connection);

impl<'c> Relaxed<'c> {
    fn new(c: &'c Connection) -> Result<Self, StoreError> {
        // Cached statements: this runs on every access-log commit.
        c.prepare_cached("PRAGMA synchronous = NORMAL").and_then(|mut st| st.execute([])).map_err(backend_error)?;
        Ok(Self(c))
    }
}

impl Drop for Relaxed<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.0.prepare_cached("PRAGMA synchronous = FULL").and_then(|mut st| st.execute([])) {
            tracing::error!(error = %e, "cannot restore synchronous = FULL on the writer");
        }
    }
}

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn bad(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, format!("bad {what}").into())
}

#[async_trait]
impl AccessLogStore for SqliteStore {
    async fn record_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let entries = entries.to_vec();
        let synced = self.access_synced.clone();
        self.write(move |c| {
            // See ACCESS_SYNC_EVERY: most commits go to the WAL without an fsync.
            let mut last = synced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let sync = last.elapsed() >= ACCESS_SYNC_EVERY;
            let c: &Connection = c;
            let _normal = (!sync).then(|| Relaxed::new(c)).transpose()?;
            // Unchecked: the guard holds a shared borrow; the writer's mutex makes it the only transaction.
            let tx = c.unchecked_transaction().map_err(backend_error)?;
            {
                let mut st = tx
                    .prepare_cached(
                        "INSERT INTO access_log (at, account_id, role, person_id, endpoint) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(backend_error)?;
                for e in &entries {
                    st.execute(params![ms(e.at), e.user.0.as_bytes(), e.role, e.person.0.as_bytes(), e.endpoint])
                        .map_err(backend_error)?;
                }
            }
            tx.commit().map_err(backend_error)?;
            if sync {
                *last = std::time::Instant::now();
            }
            Ok(())
        })
        .await
    }

    async fn access_log(&self, q: &AccessQuery) -> Result<Vec<AccessRecord>, StoreError> {
        let (before, person, limit) = (q.before, q.person.map(|p| p.0.as_bytes().to_vec()), q.limit.clamp(1, 1000));
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT l.seq, l.at, l.account_id, a.username, l.role, l.person_id, l.endpoint
                     FROM access_log l LEFT JOIN account a ON a.id = l.account_id
                     WHERE (?1 IS NULL OR l.seq < ?1) AND (?2 IS NULL OR l.person_id = ?2)
                     ORDER BY l.seq DESC LIMIT ?3",
                )
                .map_err(backend_error)?;
            st.query_map(params![before, person, limit], |r| {
                let at: i64 = r.get(1)?;
                let user: Vec<u8> = r.get(2)?;
                let person: Vec<u8> = r.get(5)?;
                Ok(AccessRecord {
                    seq: r.get(0)?,
                    at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
                        .map_err(|_| bad("timestamp"))?,
                    user: UserId(Uuid::from_slice(&user).map_err(|_| bad("account id"))?),
                    username: r.get(3)?,
                    role: r.get(4)?,
                    person: PersonId(Uuid::from_slice(&person).map_err(|_| bad("person id"))?),
                    endpoint: r.get(6)?,
                })
            })
            .map_err(backend_error)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use homeward_domain::PersonId;
    use homeward_store::{AccessEntry, AccessLogStore, AccessQuery, UserId};

    use crate::SqliteStore;

    /// The relaxed commits leave the writer at FULL for registry writes,
    /// and every entry is readable once `record_access` returns.
    #[tokio::test]
    async fn access_commits_leave_the_writer_fully_synchronous() {
        let dir = std::env::temp_dir().join(format!("hw-access-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(dir.join("homeward.db")).await.unwrap();
        let entry = |n: u128| AccessEntry {
            at: time::OffsetDateTime::now_utc(),
            user: UserId(uuid::Uuid::from_u128(1)),
            role: "mediator".into(),
            person: PersonId(uuid::Uuid::from_u128(n)),
            endpoint: "GET /api/v1/persons/{id}".into(),
        };
        for n in 0..3 {
            store.record_access(&[entry(n)]).await.unwrap();
            let sync: i64 = store.writer.lock().await.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
            assert_eq!(sync, 2, "FULL after access commit {n}");
        }
        let q = AccessQuery { before: None, person: None, limit: 10 };
        assert_eq!(store.access_log(&q).await.unwrap().len(), 3);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
