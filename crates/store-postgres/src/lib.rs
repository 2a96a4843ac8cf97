//! homeward's PostgreSQL backend (sqlx), chosen by a `postgres://` URL.
//!
//! The key decision: the same operations and the same rules as the SQLite
//! backend, each one transaction; concurrent writers to one person are
//! serialised with `SELECT ... FOR UPDATE` on the person row, so two bureaus
//! reporting at once cannot both pass the state machine from the same status.
//! Queries are checked at run time (`sqlx::query`), not at compile time, so
//! the build needs no database and no offline query data.

mod access;
mod accounts;
mod import;
mod import_batch;
mod jobs;
mod log;
mod records;
mod requests;
mod rows;
mod seal;

use std::collections::HashSet;
use std::str::FromStr;

use async_trait::async_trait;
use homeward_domain::{ConflictSetup, PartyCode, PersonId, PersonIdentity, SourceRef, Status, StatusEvent};
use homeward_store::log::event;
use homeward_store::{
    AuditItem, ExportRow, Keyring, LogEntry, LogStore, LoggedRecord, NewPerson, Page, PersonFilter, PersonImport,
    PersonRecord, PersonStatus, PersonSummary, Refusal, SealUsage, StatusRecord, Store, StoreError, StoredCheckpoint,
    TreeHead,
};
use homeward_tlog::Hash;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor, PgConnection, Row};
use time::OffsetDateTime;

pub(crate) use rows::backend_error;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A homeward database on a PostgreSQL server.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    keys: std::sync::Arc<Keyring>,
}

impl PgStore {
    /// Connects and applies migrations, with a fresh in-memory field keyring:
    /// for tests. Contact fields written through it open with no other keyring.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_in_schema(url, None).await
    }

    /// Connects with the keyring that seals the database's contact fields.
    pub async fn connect_with(url: &str, keys: Keyring) -> Result<Self, StoreError> {
        Self::connect_in_schema_with(url, None, keys).await
    }

    /// Connects with `search_path` set to `schema` (created if missing):
    /// each test gets its own schema in the shared test database.
    pub async fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        Self::connect_in_schema_with(url, schema, Keyring::generate()).await
    }

    /// [`PgStore::connect_in_schema`] with a given keyring.
    pub async fn connect_in_schema_with(url: &str, schema: Option<&str>, keys: Keyring) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Backend("the PostgreSQL URL does not parse".into()))?;
        if let Some(schema) = schema {
            if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::Backend("schema names use only letters, digits and _".into()));
            }
            let admin =
                PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await.map_err(backend_error)?;
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
                .await
                .map_err(backend_error)?;
            admin.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await.map_err(backend_error)?;
        let store = Self { pool, keys: std::sync::Arc::new(keys) };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations; returns how many were applied in all.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(MIGRATOR.iter().count())
    }

    /// Drops a test schema and everything in it.
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Backend("schema names use only letters, digits and _".into()));
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Backend("the PostgreSQL URL does not parse".into()))?;
        let admin = PgPoolOptions::new().max_connections(1).connect_with(options).await.map_err(backend_error)?;
        admin
            .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
            .await
            .map_err(backend_error)?;
        admin.close().await;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

pub(crate) fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000).expect("valid ns")
}

pub(crate) async fn party_codes(c: &mut PgConnection) -> Result<HashSet<String>, StoreError> {
    let rows = sqlx::query("SELECT code FROM party").fetch_all(&mut *c).await.map_err(backend_error)?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(backend_error)).collect()
}

pub(crate) fn check_parties(
    parties: &HashSet<String>,
    source: &SourceRef,
    identity: &PersonIdentity,
) -> Result<(), StoreError> {
    if parties.is_empty() {
        return Err(StoreError::NoConflict);
    }
    for (field, code) in [("source", &source.source), ("power", &identity.power)] {
        if !parties.contains(code.as_str()) {
            return Err(StoreError::UnknownParty { field, code: code.to_string() });
        }
    }
    Ok(())
}

#[async_trait]
impl LogStore for PgStore {
    async fn sequence(&self, max: usize) -> Result<TreeHead, StoreError> {
        log::sequence(&self.pool, self.keys.entry_key(), max).await
    }

    async fn tree_head(&self) -> Result<TreeHead, StoreError> {
        let mut c = self.pool.acquire().await.map_err(backend_error)?;
        log::tree_head(&mut c, false).await
    }

    async fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let mut c = self.pool.acquire().await.map_err(backend_error)?;
        log::read_hashes(&mut c, indexes).await
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<LogEntry>, StoreError> {
        log::entries(&self.pool, start, end).await
    }

    async fn entry_for_record(
        &self,
        key: &homeward_store::RecordKey,
    ) -> Result<Option<(LogEntry, Option<LoggedRecord>)>, StoreError> {
        let mut c = self.pool.acquire().await.map_err(backend_error)?;
        records::entry_for_record(&mut c, &self.keys, key).await
    }

    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError> {
        log::save_checkpoint(&self.pool, checkpoint).await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        Ok(log::checkpoints(&self.pool, true).await?.pop())
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        log::checkpoints(&self.pool, false).await
    }

    async fn audit_records(&self, sink: tokio::sync::mpsc::Sender<AuditItem>) -> Result<(), StoreError> {
        records::audit_records(&self.pool, &self.keys, sink).await
    }

    async fn audit_entries(&self, sink: tokio::sync::mpsc::Sender<LogEntry>) -> Result<(), StoreError> {
        log::audit_entries(&self.pool, sink).await
    }

    async fn stored_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, StoreError> {
        log::stored_hashes(&self.pool, start, end).await
    }
    fn entry_authentic(&self, entry: &LogEntry) -> bool {
        entry.authentic(self.keys.entry_key())
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend_error)?;
        Ok(())
    }

    async fn set_conflict(&self, setup: &ConflictSetup) -> Result<(), StoreError> {
        setup.validate().map_err(|e| StoreError::from(Refusal::InvalidSetup(e.to_string())))?;
        let mut tx = self.pool.begin().await.map_err(backend_error)?;
        // Serialise concurrent set-ups.
        sqlx::query("LOCK TABLE conflict IN EXCLUSIVE MODE").execute(&mut *tx).await.map_err(backend_error)?;
        if let Some(existing) = rows::conflict(&mut tx).await? {
            if existing == setup.clone().canonical() {
                return Ok(());
            }
            let persons: i64 =
                sqlx::query_scalar("SELECT count(*) FROM person").fetch_one(&mut *tx).await.map_err(backend_error)?;
            if persons > 0 {
                return Err(Refusal::SetupHasRecords.into());
            }
            sqlx::query("DELETE FROM handover_point").execute(&mut *tx).await.map_err(backend_error)?;
            sqlx::query("DELETE FROM party").execute(&mut *tx).await.map_err(backend_error)?;
            sqlx::query("DELETE FROM conflict").execute(&mut *tx).await.map_err(backend_error)?;
        }
        sqlx::query("INSERT INTO conflict (id, name, created_at) VALUES (1, $1, $2)")
            .bind(&setup.name)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        for p in &setup.parties {
            sqlx::query("INSERT INTO party (code, name, kind) VALUES ($1, $2, $3)")
                .bind(p.code.as_str())
                .bind(&p.name)
                .bind(p.kind.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
        }
        for h in &setup.handover_points {
            sqlx::query("INSERT INTO handover_point (code, name, country) VALUES ($1, $2, $3)")
                .bind(&h.code)
                .bind(&h.name)
                .bind(&h.country)
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
        }
        let log = log::Appender::new(&mut tx, &self.keys).await?;
        let record = LoggedRecord::Conflict { setup: setup.clone() };
        let log_id = log
            .append(&mut tx, None, event::CONFLICT_SET, record.record_type(), &record.record_id(), &record.content())
            .await?;
        sqlx::query("UPDATE conflict SET log_id = $1 WHERE id = 1")
            .bind(log_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)
    }

    async fn conflict(&self) -> Result<Option<ConflictSetup>, StoreError> {
        let mut c = self.pool.acquire().await.map_err(backend_error)?;
        rows::conflict(&mut c).await
    }

    async fn add_person(&self, new: NewPerson) -> Result<PersonId, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend_error)?;
        let parties = party_codes(&mut tx).await?;
        check_parties(&parties, &new.source, &new.identity)?;
        Status::check_transition(None, new.first_status.status)?;
        if rows::latest_identity(&mut tx, &new.source).await?.is_some() {
            return Err(Refusal::DuplicateSourceRecord { party: new.source.source.to_string() }.into());
        }
        let id = PersonId::new();
        let now = now();
        rows::insert_person(&mut tx, id, new.first_status.status, &new.source, now).await?;
        let log = log::Appender::new(&mut tx, &self.keys).await?;
        rows::insert_identity(
            &mut tx,
            &self.keys,
            &log,
            id,
            &new.source,
            1,
            now,
            &new.identity,
            &self.keys.fingerprint(&new.identity),
        )
        .await?;
        rows::insert_event(&mut tx, &self.keys, &log, id, 1, &new.first_status, &new.source.source, now).await?;
        tx.commit().await.map_err(|e| {
            // A concurrent insert of the same source record loses here.
            if let sqlx::Error::Database(d) = &e
                && d.is_unique_violation()
            {
                return Refusal::DuplicateSourceRecord { party: new.source.source.to_string() }.into();
            }
            backend_error(e)
        })?;
        Ok(id)
    }

    async fn person(&self, id: PersonId) -> Result<Option<PersonRecord>, StoreError> {
        let mut c = self.pool.acquire().await.map_err(backend_error)?;
        rows::person(&mut c, &self.keys, id).await
    }

    async fn person_status(&self, id: PersonId) -> Result<Option<PersonStatus>, StoreError> {
        rows::person_status(&self.pool, &self.keys, id).await
    }

    async fn list_persons(&self, filter: &PersonFilter, page: &Page) -> Result<Vec<PersonSummary>, StoreError> {
        rows::list_persons(&self.pool, filter, page).await
    }

    async fn add_status_event(
        &self,
        id: PersonId,
        event: StatusEvent,
        reported_by: &PartyCode,
    ) -> Result<StatusRecord, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend_error)?;
        if !party_codes(&mut tx).await?.contains(reported_by.as_str()) {
            return Err(StoreError::UnknownParty { field: "reported_by", code: reported_by.to_string() });
        }
        let (current, seq) =
            rows::current_status_for_update(&mut tx, id).await?.ok_or(StoreError::NotFound("person"))?;
        Status::check_transition(Some(current), event.status)?;
        let now = now();
        let log = log::Appender::new(&mut tx, &self.keys).await?;
        rows::insert_event(&mut tx, &self.keys, &log, id, seq + 1, &event, reported_by, now).await?;
        tx.commit().await.map_err(backend_error)?;
        Ok(StatusRecord { seq: seq + 1, event, reported_by: reported_by.clone(), recorded_at: now })
    }

    async fn status_counts(&self) -> Result<Vec<(Status, u64)>, StoreError> {
        let rows = sqlx::query("SELECT status, count(*) FROM person GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(backend_error)?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok((
                    rows::status(r.try_get::<String, _>(0).map_err(backend_error)?)?,
                    r.try_get::<i64, _>(1).map_err(backend_error)? as u64,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by_key(|(s, _)| *s);
        Ok(out)
    }

    async fn begin_import(&self) -> Result<Box<dyn PersonImport>, StoreError> {
        Ok(Box::new(import::PgImport::begin(&self.pool, self.keys.clone()).await?))
    }

    async fn export_persons(&self, sink: tokio::sync::mpsc::Sender<ExportRow>) -> Result<u64, StoreError> {
        rows::export_persons(&self.pool, &self.keys, sink).await
    }

    async fn identities_in_leaves(&self, start: u64, end: u64) -> Result<Vec<ExportRow>, StoreError> {
        rows::identities_in_leaves(&self.pool, &self.keys, start, end).await
    }

    async fn seal_usage(&self) -> Result<SealUsage, StoreError> {
        let mut usage = seal::usage(&self.pool).await?;
        requests::count_sealed(&self.pool, &mut usage).await?;
        Ok(usage)
    }

    async fn reseal_contacts(&self, batch: usize) -> Result<u64, StoreError> {
        let batch = batch.max(1);
        let mut total = 0;
        loop {
            let n = seal::reseal_batch(&self.pool, &self.keys, batch).await?
                + requests::reseal_batch(&self.pool, &self.keys, batch).await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    async fn rekey_fingerprints(&self, batch: usize) -> Result<u64, StoreError> {
        let batch = batch.max(1);
        let mut total = 0;
        loop {
            let n = seal::rekey_batch(&self.pool, &self.keys, batch).await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }
}

#[async_trait]
impl homeward_store::TracingStore for PgStore {
    async fn file_tracing_request(&self, new: homeward_store::NewTracingRequest) -> Result<(), StoreError> {
        requests::file(&self.pool, &self.keys, &new).await
    }

    async fn tracing_request(
        &self,
        id: homeward_domain::TracingRequestId,
    ) -> Result<Option<homeward_store::TracingRequest>, StoreError> {
        requests::get_request(&self.pool, &self.keys, id).await
    }

    async fn tracing_requests(
        &self,
        filter: &homeward_store::RequestFilter,
    ) -> Result<Vec<homeward_store::TracingRequest>, StoreError> {
        requests::list(&self.pool, &self.keys, filter).await
    }

    async fn assign_tracing_request(
        &self,
        id: homeward_domain::TracingRequestId,
        desk: &homeward_domain::Desk,
        by: &homeward_store::Actor,
    ) -> Result<bool, StoreError> {
        requests::assign(&self.pool, &self.keys, id, desk, by).await
    }

    async fn add_candidates(
        &self,
        id: homeward_domain::TracingRequestId,
        candidates: Vec<homeward_store::NewCandidate>,
    ) -> Result<usize, StoreError> {
        requests::add_candidates(&self.pool, id, &candidates).await
    }

    async fn candidates(
        &self,
        id: homeward_domain::TracingRequestId,
    ) -> Result<Vec<homeward_store::MatchCandidate>, StoreError> {
        requests::candidates(&self.pool, id).await
    }

    async fn decide_candidate(
        &self,
        id: homeward_domain::TracingRequestId,
        person: PersonId,
        decision: homeward_domain::Decision,
        disclosure: Option<homeward_domain::Disclosure>,
        by: &homeward_store::Actor,
    ) -> Result<(), StoreError> {
        requests::decide(&self.pool, &self.keys, id, person, decision, disclosure, by).await
    }

    async fn job_watermark(&self, job: &str) -> Result<i64, StoreError> {
        requests::job_watermark(&self.pool, job).await
    }

    async fn set_job_watermark(&self, job: &str, value: i64) -> Result<(), StoreError> {
        requests::set_job_watermark(&self.pool, job, value).await
    }
}
