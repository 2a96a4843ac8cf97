//! [`AccessLogStore`] on PostgreSQL, on the registry's pool.

use async_trait::async_trait;
use homeward_domain::PersonId;
use homeward_store::{AccessEntry, AccessLogStore, AccessQuery, AccessRecord, StoreError, UserId, truncate_to_millis};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{PgStore, backend_error};

#[async_trait]
impl AccessLogStore for PgStore {
    async fn record_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        // One statement for the whole batch: a listing logs one entry per person shown.
        let at: Vec<OffsetDateTime> = entries.iter().map(|e| truncate_to_millis(e.at)).collect();
        let users: Vec<Uuid> = entries.iter().map(|e| e.user.0).collect();
        let roles: Vec<&str> = entries.iter().map(|e| e.role.as_str()).collect();
        let persons: Vec<Uuid> = entries.iter().map(|e| e.person.0).collect();
        let endpoints: Vec<&str> = entries.iter().map(|e| e.endpoint.as_str()).collect();
        let outcomes: Vec<&str> = entries.iter().map(|e| e.outcome.as_str()).collect();
        sqlx::query(
            "INSERT INTO access_log (at, account_id, role, person_id, endpoint, outcome)
             SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[])",
        )
        .bind(at)
        .bind(users)
        .bind(roles)
        .bind(persons)
        .bind(endpoints)
        .bind(outcomes)
        .execute(self.pool())
        .await
        .map_err(backend_error)?;
        Ok(())
    }

    async fn access_log(&self, q: &AccessQuery) -> Result<Vec<AccessRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.seq, l.at, l.account_id, a.username, l.role, l.person_id, l.endpoint, l.outcome
             FROM access_log l LEFT JOIN account a ON a.id = l.account_id
             WHERE ($1::bigint IS NULL OR l.seq < $1) AND ($2::uuid IS NULL OR l.person_id = $2)
             ORDER BY l.seq DESC LIMIT $3",
        )
        .bind(q.before)
        .bind(q.person.map(|p| p.0))
        .bind(i64::from(q.limit.clamp(1, 1000)))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error)?;
        rows.iter()
            .map(|r| {
                Ok(AccessRecord {
                    seq: r.try_get(0).map_err(backend_error)?,
                    at: r.try_get(1).map_err(backend_error)?,
                    user: UserId(r.try_get(2).map_err(backend_error)?),
                    username: r.try_get(3).map_err(backend_error)?,
                    role: r.try_get(4).map_err(backend_error)?,
                    person: PersonId(r.try_get(5).map_err(backend_error)?),
                    endpoint: r.try_get(6).map_err(backend_error)?,
                    outcome: r
                        .try_get::<String, _>(7)
                        .map_err(backend_error)?
                        .parse()
                        .map_err(|()| StoreError::Backend("stored access outcome does not parse".into()))?,
                })
            })
            .collect()
    }
}
