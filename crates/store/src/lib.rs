//! The storage interface of homeward, with no SQL in it.
//!
//! The key decision: a [`Store`] method is a whole business operation
//! ("add a person with their first status", "append a status event"), and
//! the backend makes it atomic. There is no transaction type in the interface,
//! so no caller can forget to commit half of a change. The one long-running
//! operation, a bulk import that must land whole or not at all, is its own
//! object ([`PersonImport`]) that is committed or rolled back as a unit.
//!
//! Backends (`homeward-store-sqlite`, `homeward-store-postgres`) implement the
//! traits; only the `homeward` binary picks one. Both pass the same suite
//! (`homeward-store-conformance`).

pub mod access;
mod accounts;
mod error;
pub mod jobs;
pub mod log;
mod model;
pub mod requests;
pub mod seal;

pub use access::{AccessEntry, AccessLogStore, AccessOutcome, AccessQuery, AccessRecord};
pub use accounts::*;
pub use error::{Refusal, StoreError};
pub use jobs::{ImportJob, ImportJobId, ImportJobStore, JobProgress, JobState, NewImportJob};
pub use log::{Actor, AuditItem, LogEntry, LogStore, LoggedRecord, RecordKey, StoredCheckpoint, TreeHead};
pub use model::*;
pub use requests::{MatchCandidate, NewCandidate, NewTracingRequest, RequestFilter, TracingRequest, TracingStore};
pub use seal::{Keyring, SealError, SealUsage, SealedIdentity};

use async_trait::async_trait;
use homeward_domain::{ConflictSetup, PersonId, StatusEvent};

/// Everything homeward keeps. Methods are atomic.
#[async_trait]
pub trait Store: LogStore + ImportJobStore + TracingStore + Send + Sync + std::fmt::Debug {
    /// The backend's name for logs and `--version`: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Checks that the database answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Sets up the conflict. Setting the same setup again is a no-op; changing
    /// the parties of a conflict that has records is refused.
    async fn set_conflict(&self, setup: &ConflictSetup) -> Result<(), StoreError>;

    /// The conflict's setup, if `init` has set one.
    async fn conflict(&self) -> Result<Option<ConflictSetup>, StoreError>;

    /// Registers a person: the source's identity version and the first status
    /// event, in one transaction. Refuses a (source, record id) that exists.
    async fn add_person(&self, new: NewPerson) -> Result<PersonId, StoreError>;

    /// A person with every identity version and the whole status timeline.
    async fn person(&self, id: PersonId) -> Result<Option<PersonRecord>, StoreError>;

    /// A person's current status ([`PersonStatus`]): one indexed query, for
    /// the hot read path. Same answer as [`Store::person`] where they overlap.
    async fn person_status(&self, id: PersonId) -> Result<Option<PersonStatus>, StoreError>;

    /// One page of persons, ordered by id, after `page.after`.
    async fn list_persons(&self, filter: &PersonFilter, page: &Page) -> Result<Vec<PersonSummary>, StoreError>;

    /// Appends a status event if the state machine allows it after the
    /// person's current status, checked and written in one transaction.
    async fn add_status_event(
        &self,
        id: PersonId,
        event: StatusEvent,
        reported_by: &homeward_domain::PartyCode,
    ) -> Result<StatusRecord, StoreError>;

    /// How many persons are in each status (counts only; safe for public pages).
    async fn status_counts(&self) -> Result<Vec<(homeward_domain::Status, u64)>, StoreError>;

    /// Starts an all-or-nothing import. Only one write runs at a time on
    /// SQLite, so a long import holds the writer until it finishes.
    async fn begin_import(&self) -> Result<Box<dyn PersonImport>, StoreError>;

    /// Streams the latest identity version of every source record, in
    /// (source, record id) order, into `sink`. Returns the number of rows.
    async fn export_persons(&self, sink: tokio::sync::mpsc::Sender<ExportRow>) -> Result<u64, StoreError>;

    /// The identity versions whose log entries have leaf index in
    /// `start..end` (sequenced changes, in leaf order), each with its
    /// person's current status: how a live index follows the registry,
    /// whichever process wrote.
    async fn identities_in_leaves(&self, start: u64, end: u64) -> Result<Vec<ExportRow>, StoreError>;

    /// How many sealed contact and health (status details) values each
    /// field key seals (see [`seal`]).
    async fn seal_usage(&self) -> Result<SealUsage, StoreError>;

    /// Re-seals with the store's current field key every contact and health
    /// (status details) value sealed with another key (or not sealed),
    /// `batch` rows per transaction. The log is untouched: it commits to
    /// plaintext. Returns the values re-sealed.
    async fn reseal_contacts(&self, batch: usize) -> Result<u64, StoreError>;

    /// Re-keys every identity fingerprint still unkeyed (scheme 0, written
    /// before migration 0006) with the keyring's fingerprint key, `batch`
    /// rows per transaction. Returns the rows re-keyed. Backends call it
    /// where they are opened with a key file (`backend.rs`).
    async fn rekey_fingerprints(&self, batch: usize) -> Result<u64, StoreError>;
}

/// An import in progress: one transaction. Dropping it without
/// [`PersonImport::finish`] rolls everything back.
#[async_trait]
pub trait PersonImport: Send {
    /// Writes validated rows. A row whose status transition is illegal, or
    /// whose parties are unknown, is rejected and written nowhere; the caller
    /// decides at the end whether anything lands.
    async fn write_batch(&mut self, rows: Vec<ImportRow>) -> Result<Vec<RowRejection>, StoreError>;

    /// Commits when `commit` is true, otherwise rolls back. Returns the counts
    /// of what was (or would have been) written.
    async fn finish(self: Box<Self>, commit: bool) -> Result<ImportCounts, StoreError>;
}
