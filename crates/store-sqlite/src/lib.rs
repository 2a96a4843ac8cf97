//! homeward's SQLite backend: a single file, in WAL mode, with full sync.
//!
//! The key decision: rusqlite rather than sqlx for SQLite. Calls go straight
//! into the SQLite library with cached prepared statements and no worker
//! thread hop per statement, which is what lets a million-row import run near
//! the speed of `sqlite3`'s own `.import` (see `bench/import.sh`). rusqlite is
//! blocking, so each operation runs in `spawn_blocking`. There is one writer
//! connection (SQLite allows one writer anyway; a mutex queues writers
//! instead of failing them with SQLITE_BUSY) and a few reader connections,
//! which WAL lets run beside the writer.
//!
//! `synchronous = FULL`: a committed status change survives a power loss.
//!
//! The access log is in a second file beside the first, with its own
//! connection (`access.rs`): its commits, one per group of reads, would
//! otherwise empty the page cache of every reader of the registry.

mod access;

pub use access::path_for as access_path_for;
mod accounts;
mod conn;
mod import;
mod jobs;
mod log;
mod read;
mod records;
mod requests;
mod schema;
mod seal;
mod status_cache;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use homeward_domain::{ConflictSetup, PartyCode, PersonId, Status, StatusEvent};
use homeward_store::{
    AuditItem, ExportRow, Keyring, LogEntry, LogStore, LoggedRecord, NewPerson, Page, PersonFilter, PersonImport,
    PersonRecord, PersonStatus, PersonSummary, Refusal, SealUsage, StatusRecord, Store, StoreError, StoredCheckpoint,
    TreeHead,
};
use homeward_tlog::Hash;
use rusqlite::Connection;
use tokio::sync::Mutex;

pub(crate) use conn::backend_error;

const READERS: usize = 4;

/// A homeward database in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Vec<Arc<Mutex<Connection>>>>,
    next_reader: Arc<AtomicUsize>,
    keys: Arc<Keyring>,
    /// The access log's own file (`access.rs`): written and read here only.
    access: Arc<Mutex<Connection>>,
    /// Current statuses for the status read (`status_cache.rs`), made stale
    /// by every commit of the writer connection.
    statuses: Arc<status_cache::StatusCache>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations,
    /// with a fresh in-memory field keyring: for tests and throwaway
    /// databases. Contact fields written through it open with no other keyring.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, Keyring::generate()).await
    }

    /// Opens the database with the keyring that seals its contact fields.
    pub async fn open_with(path: impl AsRef<Path>, keys: Keyring) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let p = path.clone();
        let (writer, readers, access, statuses) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let mut writer = conn::open(&p)?;
            schema::migrate(&mut writer)?;
            let access = access::open(&p, &writer)?;
            let readers =
                (0..READERS).map(|_| conn::open(&p).map(|c| Arc::new(Mutex::new(c)))).collect::<Result<Vec<_>, _>>()?;
            let statuses = status_cache::StatusCache::new(conn::open(&p)?)?;
            Ok((writer, readers, access, statuses))
        })
        .await
        .map_err(join_error)??;
        let access = Arc::new(Mutex::new(access));
        access::Checkpointer::start(&path, Arc::downgrade(&access))?;
        Ok(Self {
            path,
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(readers),
            next_reader: Arc::new(AtomicUsize::new(0)),
            keys: Arc::new(keys),
            access,
            statuses: Arc::new(statuses),
        })
    }

    /// Applies pending migrations to the file (and to its access-log file,
    /// moving the access log there) without keeping them open.
    pub async fn migrate(path: impl AsRef<Path>) -> Result<usize, StoreError> {
        let p = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut c = conn::open(&p)?;
            let version = schema::migrate(&mut c)?;
            access::open(&p, &c)?;
            Ok(version)
        })
        .await
        .map_err(join_error)?
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the writer connection, queued behind other writers.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let mut guard = self.writer.clone().lock_owned().await;
        let statuses = self.statuses.clone();
        tokio::task::spawn_blocking(move || {
            let result = f(&mut guard);
            // Here rather than after the await: a cancelled caller's write
            // still commits.
            statuses.changed();
            result
        })
        .await
        .map_err(join_error)?
    }

    /// Runs `f` on a reader connection: a free one if there is one.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let guard = match self.readers.iter().find_map(|r| r.clone().try_lock_owned().ok()) {
            Some(g) => g,
            None => {
                let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
                self.readers[i].clone().lock_owned().await
            }
        };
        tokio::task::spawn_blocking(move || f(&guard)).await.map_err(join_error)?
    }

    /// Runs a point read (a few primary-key lookups) on the calling thread,
    /// on a free connection, or through [`Self::read`] when none is free. On
    /// a warm page cache such a read takes microseconds, less than the hop to
    /// the blocking pool and back; it never waits for a connection on the
    /// async thread. Only for reads bounded by a handful of index lookups:
    /// anything that scans goes through `read`.
    ///
    /// The writer first, when idle: in WAL mode every commit empties the
    /// page cache of every *other* connection, while the writer's own
    /// commits leave its cache warm (access-log commits go to another file
    /// and empty no cache here). Between write closures the writer has no
    /// open transaction (an import holds the lock throughout), so it reads
    /// exactly what a reader would.
    async fn read_point<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if let Ok(guard) = self.writer.try_lock() {
            return f(&guard);
        }
        match self.readers.iter().find_map(|r| r.try_lock().ok()) {
            Some(guard) => f(&guard),
            None => self.read(f).await,
        }
    }
}

pub(crate) fn join_error(e: tokio::task::JoinError) -> StoreError {
    StoreError::Backend(format!("database task failed: {e}"))
}

#[async_trait]
impl LogStore for SqliteStore {
    async fn sequence(&self, max: usize) -> Result<TreeHead, StoreError> {
        let key = self.keys.entry_key().clone();
        self.write(move |c| log::sequence(c, &key, max)).await
    }

    async fn tree_head(&self) -> Result<TreeHead, StoreError> {
        self.read(log::tree_head).await
    }

    async fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let indexes = indexes.to_vec();
        self.read(move |c| log::read_hashes(c, &indexes)).await
    }

    async fn entries(&self, start: u64, end: u64) -> Result<Vec<LogEntry>, StoreError> {
        self.read(move |c| log::entries(c, start, end)).await
    }

    async fn entry_for_record(
        &self,
        key: &homeward_store::RecordKey,
    ) -> Result<Option<(LogEntry, Option<LoggedRecord>)>, StoreError> {
        let (key, keys) = (key.clone(), self.keys.clone());
        self.read(move |c| records::entry_for_record(c, &keys, &key)).await
    }

    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError> {
        let cp = checkpoint.clone();
        self.write(move |c| log::save_checkpoint(c, &cp)).await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        Ok(self.read(|c| log::checkpoints(c, true)).await?.pop())
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.read(|c| log::checkpoints(c, false)).await
    }

    async fn audit_records(&self, sink: tokio::sync::mpsc::Sender<AuditItem>) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        self.read(move |c| records::audit_records(c, &keys, &sink)).await
    }

    async fn audit_entries(&self, sink: tokio::sync::mpsc::Sender<LogEntry>) -> Result<(), StoreError> {
        self.read(move |c| log::audit_entries(c, &sink)).await
    }

    async fn stored_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, StoreError> {
        self.read(move |c| log::stored_hashes(c, start, end)).await
    }

    fn entry_authentic(&self, entry: &LogEntry) -> bool {
        entry.authentic(self.keys.entry_key())
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(backend_error)).await
    }

    async fn set_conflict(&self, setup: &ConflictSetup) -> Result<(), StoreError> {
        setup.validate().map_err(|e| StoreError::from(Refusal::InvalidSetup(e.to_string())))?;
        let setup = setup.clone();
        let keys = self.keys.clone();
        self.write(move |c| write::set_conflict(c, &keys, &setup)).await
    }

    async fn conflict(&self) -> Result<Option<ConflictSetup>, StoreError> {
        self.read(read::conflict).await
    }

    async fn add_person(&self, new: NewPerson) -> Result<PersonId, StoreError> {
        let keys = self.keys.clone();
        self.write(move |c| write::add_person(c, &keys, new)).await
    }

    async fn person(&self, id: PersonId) -> Result<Option<PersonRecord>, StoreError> {
        let keys = self.keys.clone();
        self.read_point(move |c| read::person(c, &keys, id)).await
    }

    async fn person_status(&self, id: PersonId) -> Result<Option<PersonStatus>, StoreError> {
        // Kept with its details sealed, as stored: opened for each answer.
        let ticket = match self.statuses.get(id)? {
            Ok(sealed) => return read::open_status(&self.keys, sealed).map(Some),
            Err(ticket) => ticket,
        };
        let Some(sealed) = self.read_point(move |c| read::person_status_sealed(c, id)).await? else {
            return Ok(None);
        };
        self.statuses.keep(ticket, &sealed);
        read::open_status(&self.keys, sealed).map(Some)
    }

    async fn list_persons(&self, filter: &PersonFilter, page: &Page) -> Result<Vec<PersonSummary>, StoreError> {
        let (filter, page) = (filter.clone(), page.clone());
        self.read(move |c| read::list_persons(c, &filter, &page)).await
    }

    async fn add_status_event(
        &self,
        id: PersonId,
        event: StatusEvent,
        reported_by: &PartyCode,
    ) -> Result<StatusRecord, StoreError> {
        let (keys, reported_by) = (self.keys.clone(), reported_by.clone());
        self.write(move |c| write::add_status_event(c, &keys, id, event, &reported_by)).await
    }

    async fn status_counts(&self) -> Result<Vec<(Status, u64)>, StoreError> {
        self.read(read::status_counts).await
    }

    async fn begin_import(&self) -> Result<Box<dyn PersonImport>, StoreError> {
        let guard = self.writer.clone().lock_owned().await;
        Ok(Box::new(import::SqliteImport::begin(guard, self.keys.clone(), self.statuses.clone()).await?))
    }

    async fn export_persons(&self, sink: tokio::sync::mpsc::Sender<ExportRow>) -> Result<u64, StoreError> {
        let keys = self.keys.clone();
        self.read(move |c| read::export_persons(c, &keys, &sink)).await
    }

    async fn identities_in_leaves(&self, start: u64, end: u64) -> Result<Vec<ExportRow>, StoreError> {
        let keys = self.keys.clone();
        self.read(move |c| read::identities_in_leaves(c, &keys, start, end)).await
    }

    async fn seal_usage(&self) -> Result<SealUsage, StoreError> {
        self.read(|c| {
            let mut usage = seal::usage(c)?;
            requests::count_sealed(c, &mut usage)?;
            Ok(usage)
        })
        .await
    }

    async fn reseal_contacts(&self, batch: usize) -> Result<u64, StoreError> {
        let batch = batch.max(1);
        let mut total = 0;
        loop {
            let keys = self.keys.clone();
            let n = self
                .write(move |c| Ok(seal::reseal_batch(c, &keys, batch)? + requests::reseal_batch(c, &keys, batch)?))
                .await?;
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
            let keys = self.keys.clone();
            let n = self.write(move |c| seal::rekey_batch(c, &keys, batch)).await?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }
}

#[async_trait]
impl homeward_store::TracingStore for SqliteStore {
    async fn file_tracing_request(&self, new: homeward_store::NewTracingRequest) -> Result<(), StoreError> {
        let keys = self.keys.clone();
        self.write(move |c| requests::file(c, &keys, &new)).await
    }

    async fn tracing_request(
        &self,
        id: homeward_domain::TracingRequestId,
    ) -> Result<Option<homeward_store::TracingRequest>, StoreError> {
        let keys = self.keys.clone();
        self.read(move |c| requests::get(c, &keys, id)).await
    }

    async fn tracing_requests(
        &self,
        filter: &homeward_store::RequestFilter,
    ) -> Result<Vec<homeward_store::TracingRequest>, StoreError> {
        let (keys, filter) = (self.keys.clone(), filter.clone());
        self.read(move |c| requests::list(c, &keys, &filter)).await
    }

    async fn assign_tracing_request(
        &self,
        id: homeward_domain::TracingRequestId,
        desk: &homeward_domain::Desk,
        by: &homeward_store::Actor,
    ) -> Result<bool, StoreError> {
        let (keys, desk, by) = (self.keys.clone(), desk.clone(), by.clone());
        self.write(move |c| requests::assign(c, &keys, id, &desk, &by)).await
    }

    async fn add_candidates(
        &self,
        id: homeward_domain::TracingRequestId,
        candidates: Vec<homeward_store::NewCandidate>,
    ) -> Result<usize, StoreError> {
        self.write(move |c| requests::add_candidates(c, id, &candidates)).await
    }

    async fn candidates(
        &self,
        id: homeward_domain::TracingRequestId,
    ) -> Result<Vec<homeward_store::MatchCandidate>, StoreError> {
        self.read(move |c| requests::candidates(c, id)).await
    }

    async fn decide_candidate(
        &self,
        id: homeward_domain::TracingRequestId,
        person: PersonId,
        decision: homeward_domain::Decision,
        disclosure: Option<homeward_domain::Disclosure>,
        by: &homeward_store::Actor,
    ) -> Result<(), StoreError> {
        let (keys, by) = (self.keys.clone(), by.clone());
        self.write(move |c| requests::decide(c, &keys, id, person, decision, disclosure, &by)).await
    }

    async fn job_watermark(&self, job: &str) -> Result<i64, StoreError> {
        let job = job.to_owned();
        self.read(move |c| requests::job_watermark(c, &job)).await
    }

    async fn set_job_watermark(&self, job: &str, value: i64) -> Result<(), StoreError> {
        let job = job.to_owned();
        self.write(move |c| requests::set_job_watermark(c, &job, value)).await
    }
}
