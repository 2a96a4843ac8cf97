//! [`AccessLogStore`] on SQLite: appended on the writer, read on a reader.

use async_trait::async_trait;
use homeward_domain::PersonId;
use homeward_store::{AccessEntry, AccessLogStore, AccessQuery, AccessRecord, StoreError, UserId};
use rusqlite::params;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SqliteStore, backend_error};

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
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
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
            tx.commit().map_err(backend_error)
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
