//! [`ImportJobStore`] on PostgreSQL, on the registry's pool.

use async_trait::async_trait;
use homeward_store::{
    ImportJob, ImportJobId, ImportJobStore, JobProgress, JobState, NewImportJob, StoreError, UserId, truncate_to_millis,
};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{PgStore, backend_error};

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn job_of(r: &PgRow) -> Result<ImportJob, StoreError> {
    let unsigned = |i: usize| -> Result<u64, StoreError> {
        u64::try_from(r.try_get::<i64, _>(i).map_err(backend_error)?)
            .map_err(|_| StoreError::Backend("negative count in import_job".into()))
    };
    let state: String = r.try_get(4).map_err(backend_error)?;
    Ok(ImportJob {
        id: ImportJobId(r.try_get(0).map_err(backend_error)?),
        started_by: UserId(r.try_get(1).map_err(backend_error)?),
        source: r.try_get(2).map_err(backend_error)?,
        dry_run: r.try_get(3).map_err(backend_error)?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::Backend("unknown import job state".into()))?,
        progress: JobProgress { rows_read: unsigned(5)?, bytes_read: unsigned(6)? },
        total_bytes: unsigned(7)?,
        report: r.try_get(8).map_err(backend_error)?,
        created_at: r.try_get(9).map_err(backend_error)?,
        updated_at: r.try_get(10).map_err(backend_error)?,
    })
}

#[async_trait]
impl ImportJobStore for PgStore {
    async fn create_import_job(&self, job: &NewImportJob) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO import_job (id, started_by, source, dry_run, state, total_bytes, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6)",
        )
        .bind(job.id.0)
        .bind(job.started_by.0)
        .bind(&job.source)
        .bind(job.dry_run)
        .bind(count(job.total_bytes))
        .bind(truncate_to_millis(job.created_at))
        .execute(self.pool())
        .await
        .map_err(backend_error)?;
        Ok(())
    }

    async fn import_job(&self, id: ImportJobId) -> Result<Option<ImportJob>, StoreError> {
        let row = sqlx::query(
            "SELECT id, started_by, source, dry_run, state, rows_read, bytes_read, total_bytes, report,
                    created_at, updated_at
             FROM import_job WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error)?;
        row.as_ref().map(job_of).transpose()
    }

    async fn update_import_job(
        &self,
        id: ImportJobId,
        state: JobState,
        progress: JobProgress,
        report: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE import_job SET state = $2, rows_read = $3, bytes_read = $4, report = $5, updated_at = $6
             WHERE id = $1 AND state IN ('queued', 'running')",
        )
        .bind(id.0)
        .bind(state.as_str())
        .bind(count(progress.rows_read))
        .bind(count(progress.bytes_read))
        .bind(report)
        .bind(truncate_to_millis(at))
        .execute(self.pool())
        .await
        .map_err(backend_error)?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound("live import job")) } else { Ok(()) }
    }

    async fn interrupt_live_import_jobs(
        &self,
        report: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ImportJobId>, StoreError> {
        let rows = sqlx::query(
            "UPDATE import_job SET state = 'interrupted', report = $1, updated_at = $2
             WHERE state IN ('queued', 'running') RETURNING id",
        )
        .bind(report)
        .bind(truncate_to_millis(at))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error)?;
        rows.iter().map(|r| r.try_get::<Uuid, _>(0).map(ImportJobId).map_err(backend_error)).collect()
    }
}
