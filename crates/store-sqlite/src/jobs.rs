//! [`ImportJobStore`] on SQLite: written on the writer, read on a reader.

use async_trait::async_trait;
use homeward_store::{ImportJob, ImportJobId, ImportJobStore, JobProgress, JobState, NewImportJob, StoreError, UserId};
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SqliteStore, backend_error};

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn bad(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, format!("bad {what}").into())
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn time_of(v: i64) -> rusqlite::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).map_err(|_| bad("timestamp"))
}

fn job_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportJob> {
    let id: Vec<u8> = r.get(0)?;
    let by: Vec<u8> = r.get(1)?;
    let state: String = r.get(4)?;
    let unsigned = |i: usize| -> rusqlite::Result<u64> { u64::try_from(r.get::<_, i64>(i)?).map_err(|_| bad("count")) };
    Ok(ImportJob {
        id: ImportJobId(Uuid::from_slice(&id).map_err(|_| bad("job id"))?),
        started_by: UserId(Uuid::from_slice(&by).map_err(|_| bad("account id"))?),
        source: r.get(2)?,
        dry_run: r.get(3)?,
        state: JobState::parse(&state).ok_or_else(|| bad("job state"))?,
        progress: JobProgress { rows_read: unsigned(5)?, bytes_read: unsigned(6)? },
        total_bytes: unsigned(7)?,
        report: r.get(8)?,
        created_at: time_of(r.get(9)?)?,
        updated_at: time_of(r.get(10)?)?,
    })
}

#[async_trait]
impl ImportJobStore for SqliteStore {
    async fn create_import_job(&self, job: &NewImportJob) -> Result<(), StoreError> {
        let job = job.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO import_job (id, started_by, source, dry_run, state, total_bytes, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?6)",
                params![
                    job.id.0.as_bytes(),
                    job.started_by.0.as_bytes(),
                    job.source,
                    job.dry_run,
                    count(job.total_bytes),
                    ms(job.created_at)
                ],
            )
            .map_err(backend_error)?;
            Ok(())
        })
        .await
    }

    async fn import_job(&self, id: ImportJobId) -> Result<Option<ImportJob>, StoreError> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, started_by, source, dry_run, state, rows_read, bytes_read, total_bytes, report,
                        created_at, updated_at
                 FROM import_job WHERE id = ?1",
            )
            .map_err(backend_error)?
            .query_row(params![id.0.as_bytes()], job_of)
            .optional()
            .map_err(backend_error)
        })
        .await
    }

    async fn update_import_job(
        &self,
        id: ImportJobId,
        state: JobState,
        progress: JobProgress,
        report: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let report = report.map(str::to_owned);
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE import_job SET state = ?2, rows_read = ?3, bytes_read = ?4, report = ?5, updated_at = ?6
                     WHERE id = ?1 AND state IN ('queued', 'running')",
                    params![
                        id.0.as_bytes(),
                        state.as_str(),
                        count(progress.rows_read),
                        count(progress.bytes_read),
                        report,
                        ms(at)
                    ],
                )
                .map_err(backend_error)?;
            if n == 0 { Err(StoreError::NotFound("live import job")) } else { Ok(()) }
        })
        .await
    }

    async fn interrupt_live_import_jobs(
        &self,
        report: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ImportJobId>, StoreError> {
        let report = report.to_owned();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
            let ids = tx
                .prepare("SELECT id FROM import_job WHERE state IN ('queued', 'running')")
                .map_err(backend_error)?
                .query_map([], |r| {
                    let id: Vec<u8> = r.get(0)?;
                    Uuid::from_slice(&id).map(ImportJobId).map_err(|_| bad("job id"))
                })
                .map_err(backend_error)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend_error)?;
            tx.execute(
                "UPDATE import_job SET state = 'interrupted', report = ?1, updated_at = ?2
                 WHERE state IN ('queued', 'running')",
                params![report, ms(at)],
            )
            .map_err(backend_error)?;
            tx.commit().map_err(backend_error)?;
            Ok(ids)
        })
        .await
    }
}
