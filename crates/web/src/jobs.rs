//! CSV imports as background jobs: the upload is spooled to a file in the
//! data folder (never held in memory), a job row is stored (`queued`), and a
//! task in this process runs the streaming import, keeping its progress in
//! memory for the job's page. The final state and report are written to the
//! job row; the spooled file is removed.
//!
//! Progress is not written to the database while the import runs: on SQLite
//! the import's transaction holds the one writer until it ends. A restart
//! loses no outcome: the import lands whole or not at all, so a job found
//! `queued` or `running` at start-up ([`ImportJobs::recover`]) stored nothing,
//! and is marked `interrupted` with that message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use homeward_domain::Role;
use homeward_service::import::{ImportOptions, Progress, import_persons_csv};
use homeward_store::{ImportJob, ImportJobId, JobProgress, JobState, NewImportJob, Store, StoreError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;

use crate::auth::CurrentUser;
use crate::auth::capabilities::CanRegister;
use crate::error::AppError;
use crate::v1::model::{ImportJobOut, ImportReportOut, rfc3339};

/// Told to a job found live at start-up, and to one whose import failed.
pub const INTERRUPTED: &str = "the server stopped before the import finished: nothing was stored";
const FAILED: &str = "the import failed on the server's side: nothing was stored";

/// What the job row's `report` column holds (JSON): the report, or why there is none.
#[derive(Debug, Serialize, Deserialize)]
struct Outcome {
    #[serde(default)]
    report: Option<ImportReportOut>,
    #[serde(default)]
    message: Option<String>,
}

/// A running job's counters, shared with the import's progress callback.
#[derive(Debug, Default)]
struct Live {
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl Live {
    fn snapshot(&self) -> JobProgress {
        JobProgress { rows_read: self.rows.load(Ordering::Relaxed), bytes_read: self.bytes.load(Ordering::Relaxed) }
    }
}

impl Progress for Live {
    fn advance(&self, bytes_read: u64) {
        self.bytes.store(bytes_read, Ordering::Relaxed);
    }
    fn rows(&self, rows_read: u64) {
        self.rows.store(rows_read, Ordering::Relaxed);
    }
}

/// Why an upload was not spooled.
#[derive(Debug)]
pub enum SpoolError {
    TooLarge,
    /// The client's body broke off or did not parse.
    Body,
    Io(std::io::Error),
}

impl From<SpoolError> for AppError {
    fn from(e: SpoolError) -> Self {
        match e {
            SpoolError::TooLarge => AppError::PayloadTooLarge,
            SpoolError::Body => AppError::BadRequest("the body could not be read"),
            SpoolError::Io(e) => AppError::Internal(format!("cannot spool the upload: {}", e.kind())),
        }
    }
}

/// The jobs of this process and the folder their files are spooled in.
#[derive(Debug)]
pub struct ImportJobs {
    dir: PathBuf,
    live: Mutex<HashMap<ImportJobId, Arc<Live>>>,
}

impl ImportJobs {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), live: Mutex::new(HashMap::new()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: ImportJobId) -> PathBuf {
        self.dir.join(format!("{id}.csv"))
    }

    /// At start-up, before serving: jobs a stopped process left live are
    /// marked `interrupted`, and every spooled file is removed (no job of
    /// this process exists yet). Returns the jobs marked.
    pub async fn recover(&self, store: &dyn Store) -> Result<Vec<ImportJobId>, StoreError> {
        let outcome = Outcome { report: None, message: Some(INTERRUPTED.to_owned()) };
        let json = serde_json::to_string(&outcome).unwrap_or_default();
        let ids = store.interrupt_live_import_jobs(&json, OffsetDateTime::now_utc()).await?;
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(".csv") || name.ends_with(".part") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        if !ids.is_empty() {
            tracing::warn!(jobs = ids.len(), "import jobs interrupted by a restart marked as such");
        }
        Ok(ids)
    }

    /// Writes a body to the job's spool file, refusing more than `max` bytes.
    pub async fn spool_body(&self, id: ImportJobId, body: axum::body::Body, max: usize) -> Result<u64, SpoolError> {
        use http_body_util::BodyExt;
        let mut body = body;
        let mut spool = Spool::create(self, id).await?;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| SpoolError::Body)?;
            if let Ok(data) = frame.into_data() {
                spool.write(&data, max).await?;
            }
        }
        spool.finish().await
    }

    /// Writes one multipart field to the job's spool file.
    pub async fn spool_field(
        &self,
        id: ImportJobId,
        field: &mut axum::extract::multipart::Field<'_>,
        max: usize,
    ) -> Result<u64, SpoolError> {
        let mut spool = Spool::create(self, id).await?;
        loop {
            match field.chunk().await {
                Ok(Some(data)) => spool.write(&data, max).await?,
                Ok(None) => break,
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(SpoolError::TooLarge);
                }
                Err(_) => return Err(SpoolError::Body),
            }
        }
        spool.finish().await
    }

    /// Removes a spooled file whose job will not run.
    pub fn discard(&self, id: ImportJobId) {
        let _ = std::fs::remove_file(self.path(id));
    }

    /// Stores the job (`queued`) and runs it in the background. The handle
    /// yields the final job, for callers that wait (the synchronous API).
    pub async fn start(
        self: &Arc<Self>,
        store: Arc<dyn Store>,
        id: ImportJobId,
        can: &CanRegister,
        total_bytes: u64,
        dry_run: bool,
    ) -> Result<tokio::task::JoinHandle<Option<ImportJob>>, AppError> {
        let party = can.registrar.party().clone();
        let job = NewImportJob {
            id,
            started_by: can.user.user.id,
            source: party.to_string(),
            dry_run,
            total_bytes,
            created_at: OffsetDateTime::now_utc(),
        };
        if let Err(e) = store.create_import_job(&job).await {
            self.discard(id);
            return Err(e.into());
        }
        let mut options = ImportOptions::new(party);
        options.only_own_source = true;
        options.dry_run = dry_run;
        let live = Arc::new(Live::default());
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, live.clone());
        let jobs = self.clone();
        Ok(tokio::spawn(async move {
            let final_state = jobs.run(store.as_ref(), id, &options, &live).await;
            jobs.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
            jobs.discard(id);
            match final_state {
                Ok(()) => store.import_job(id).await.ok().flatten(),
                Err(e) => {
                    tracing::error!(job.id = %id, error = %e, "import job could not record its outcome");
                    None
                }
            }
        }))
    }

    async fn run(
        &self,
        store: &dyn Store,
        id: ImportJobId,
        options: &ImportOptions,
        live: &Live,
    ) -> Result<(), StoreError> {
        store.update_import_job(id, JobState::Running, JobProgress::default(), None, OffsetDateTime::now_utc()).await?;
        let (state, outcome) = match import_persons_csv(store, &self.path(id), options, live).await {
            Ok(report) => {
                let report = ImportReportOut::from(report);
                let state = if report.committed {
                    JobState::Committed
                } else if report.rejections.is_empty() && report.fatal.is_none() {
                    JobState::Validated
                } else {
                    JobState::Rejected
                };
                live.rows.store(report.rows, Ordering::Relaxed);
                (state, Outcome { report: Some(report), message: None })
            }
            Err(e) => {
                // The detail may name the spool path; it goes to the server's log only.
                tracing::error!(job.id = %id, error = %e, "import job failed");
                (JobState::Interrupted, Outcome { report: None, message: Some(FAILED.to_owned()) })
            }
        };
        tracing::info!(job.id = %id, state = %state, rows = live.snapshot().rows_read, "import job finished");
        let json = serde_json::to_string(&outcome).unwrap_or_default();
        store.update_import_job(id, state, live.snapshot(), Some(&json), OffsetDateTime::now_utc()).await
    }

    /// The job as `user` may see it: its starter and the mediator; anyone
    /// else gets `None`, as for a job that does not exist.
    pub async fn visible(
        &self,
        store: &dyn Store,
        id: ImportJobId,
        user: &CurrentUser,
    ) -> Result<ImportJobOut, AppError> {
        let job = store.import_job(id).await?.ok_or(AppError::NotFound)?;
        if job.started_by != user.user.id && user.role != Role::Mediator {
            return Err(AppError::NotFound);
        }
        Ok(self.view(job))
    }

    fn view(&self, job: ImportJob) -> ImportJobOut {
        let progress = if job.state.is_live() {
            self.live
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&job.id)
                .map_or(job.progress, |l| l.snapshot())
        } else {
            job.progress
        };
        let outcome: Option<Outcome> = job.report.as_deref().and_then(|r| serde_json::from_str(r).ok());
        let (report, message) = outcome.map_or((None, None), |o| (o.report, o.message));
        ImportJobOut {
            id: job.id.to_string(),
            state: job.state.as_str().to_owned(),
            source: job.source,
            dry_run: job.dry_run,
            rows_read: progress.rows_read,
            bytes_read: progress.bytes_read,
            total_bytes: job.total_bytes,
            created_at: rfc3339(job.created_at),
            updated_at: rfc3339(job.updated_at),
            report,
            message,
        }
    }
}

/// A spool file being written: `ID.part`, renamed to `ID.csv` when complete,
/// removed if dropped before that.
struct Spool {
    part: PathBuf,
    done: PathBuf,
    file: Option<tokio::fs::File>,
    written: u64,
}

impl Spool {
    async fn create(jobs: &ImportJobs, id: ImportJobId) -> Result<Self, SpoolError> {
        // Owner only, like the data folder it is in, whatever the umask.
        let mut dir = tokio::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        dir.mode(0o700);
        dir.create(&jobs.dir).await.map_err(SpoolError::Io)?;
        let part = jobs.dir.join(format!("{id}.part"));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Uploads are personal data: only the server's user reads them.
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&part).await.map_err(SpoolError::Io)?;
        Ok(Self { part, done: jobs.path(id), file: Some(file), written: 0 })
    }

    async fn write(&mut self, data: &Bytes, max: usize) -> Result<(), SpoolError> {
        self.written += data.len() as u64;
        if self.written > max as u64 {
            return Err(SpoolError::TooLarge);
        }
        let file = self.file.as_mut().ok_or(SpoolError::Body)?;
        file.write_all(data).await.map_err(SpoolError::Io)
    }

    async fn finish(mut self) -> Result<u64, SpoolError> {
        let mut file = self.file.take().ok_or(SpoolError::Body)?;
        file.flush().await.map_err(SpoolError::Io)?;
        drop(file);
        tokio::fs::rename(&self.part, &self.done).await.map_err(SpoolError::Io)?;
        Ok(self.written)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.part);
        }
    }
}
