//! Import jobs: a CSV upload imported in the background, durable in the
//! database so that its outcome outlives the request and a restart.
//!
//! A job row holds who started it, the source party, the state, the
//! progress counters and, once finished, the report as JSON. The report
//! names line, field and reason only (as `homeward import` prints them),
//! never a value from the file: the table holds no personal data.
//!
//! Live progress is kept in memory by the process that runs the job and
//! written here when the state changes: on SQLite the import holds the one
//! writer until it ends, so nothing else could be written meanwhile anyway.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{StoreError, UserId};

/// An import job's id: UUID v7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ImportJobId(pub Uuid);

impl ImportJobId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for ImportJobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ImportJobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ImportJobId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(ImportJobId)
    }
}

/// Where a job is. `queued` and `running` are live; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Spooled, waiting for its turn.
    Queued,
    /// Reading and writing in one transaction.
    Running,
    /// Every row valid: the file landed whole.
    Committed,
    /// A dry run in which every row was valid: nothing was written, by request.
    Validated,
    /// Rows were rejected (or the file could not be read to the end): nothing was written.
    Rejected,
    /// The server stopped (or failed) while the job ran: nothing was written.
    Interrupted,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Committed,
        JobState::Validated,
        JobState::Rejected,
        JobState::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Committed => "committed",
            JobState::Validated => "validated",
            JobState::Rejected => "rejected",
            JobState::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still queued or running.
    pub fn is_live(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job as the web layer creates it: queued, its file already spooled.
#[derive(Debug, Clone)]
pub struct NewImportJob {
    pub id: ImportJobId,
    pub started_by: UserId,
    /// The party code the rows are imported as.
    pub source: String,
    pub dry_run: bool,
    pub total_bytes: u64,
    pub created_at: OffsetDateTime,
}

/// How far a job got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobProgress {
    pub rows_read: u64,
    pub bytes_read: u64,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: ImportJobId,
    pub started_by: UserId,
    pub source: String,
    pub dry_run: bool,
    pub state: JobState,
    pub progress: JobProgress,
    pub total_bytes: u64,
    /// The final report, JSON (line, field and reason only); `None` while live.
    pub report: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[async_trait]
pub trait ImportJobStore: Send + Sync + std::fmt::Debug {
    /// Stores a new job in state `queued`.
    async fn create_import_job(&self, job: &NewImportJob) -> Result<(), StoreError>;

    /// A job by id.
    async fn import_job(&self, id: ImportJobId) -> Result<Option<ImportJob>, StoreError>;

    /// Moves a live job to `state` with its progress so far (and, for a
    /// final state, its report). A job already in a final state is not
    /// changed: `NotFound("live import job")`.
    async fn update_import_job(
        &self,
        id: ImportJobId,
        state: JobState,
        progress: JobProgress,
        report: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// At start-up: every job left `queued` or `running` by a process that
    /// stopped becomes `interrupted` with `report`. Returns their ids (their
    /// spooled files are to be removed).
    async fn interrupt_live_import_jobs(
        &self,
        report: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<ImportJobId>, StoreError>;
}
