//! The matcher's in-memory index over the stored registry, shared by the
//! command line (`homeward registry search|duplicates`, built once) and the
//! server (loaded in the background at start, then kept up to date).
//!
//! The key decision: the live index follows the **log**, not the writes it
//! happens to see. Every registration and amendment appends an identity
//! version with a log entry; once the sequencer has given the entry its
//! leaf, [`LiveIndex::catch_up`] reads the identity versions of the new
//! leaves (`Store::identities_in_leaves`) and indexes them. A `homeward
//! import` run by another process, or a second server on the same
//! database, is followed exactly like the server's own writes, and the
//! watermark (a leaf index) never skips a change: leaves are final once
//! sequenced, on both backends, whatever order transactions committed in.
//!
//! The index only grows. An amended identity adds a slot beside the old
//! one (the old description still finds the person: candidates are for a
//! person to judge, and the registry itself never forgets a version); a
//! search keeps each person's best slot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use homeward_domain::PersonId;
use homeward_matching::{BirthDate, Candidate, Index, MatchRecord};
use homeward_store::{ExportRow, Store, StoreError};
use tokio::sync::Notify;

/// How many leaves one catch-up round reads at most: an import of a
/// million rows is followed in slices, not in one query.
const CATCH_UP_SLICE: u64 = 20_000;

/// Why a search is refused while a server loads the registry index.
pub const INDEX_LOADING: &str = "the registry index is still loading";

/// How often the live index looks for changes made by other processes.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The matcher's index over the stored registry: one entry per source
/// record version (a person reported by both parties has two), with the
/// person's id as the record id.
#[derive(Debug)]
pub struct RegistryIndex {
    pub index: Index,
    /// `SOURCE:RECORD_ID` of each slot, for display.
    pub sources: Vec<String>,
}

impl Default for RegistryIndex {
    fn default() -> Self {
        Self { index: Index::new(), sources: Vec::new() }
    }
}

impl RegistryIndex {
    fn add(&mut self, row: &ExportRow) {
        self.index.insert(to_match_record(row));
        self.sources.push(format!("{}:{}", row.source.source, row.source.record_id));
    }
}

/// The matcher's record of an exported row.
pub fn to_match_record(row: &ExportRow) -> MatchRecord {
    let i = &row.identity;
    MatchRecord {
        id: row.person_id.to_string(),
        family_name: i.family_name.clone(),
        given_names: i.given_names.clone(),
        patronymic: i.patronymic.clone(),
        mother_maiden_name: i.mother_maiden_name.clone(),
        birth_date: i.birth_date.map(|d| BirthDate { year: d.year(), month: d.month(), day: d.day() }),
        place_of_birth: i.place_of_birth.clone(),
        rank: i.rank.clone(),
        service_number: i.service_number.clone(),
        unit: i.unit.clone(),
    }
}

/// Builds the index from every source record's latest identity. Rows are
/// prepared on a blocking thread while the store streams them.
///
/// # Errors
/// The store's error, if the registry cannot be read.
pub async fn load_index(store: &dyn Store) -> Result<RegistryIndex, StoreError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ExportRow>(1024);
    let builder = tokio::task::spawn_blocking(move || {
        let mut reg = RegistryIndex::default();
        while let Some(row) = rx.blocking_recv() {
            reg.add(&row);
        }
        reg
    });
    let exported = store.export_persons(tx).await;
    let built = builder.await.map_err(|_| StoreError::Backend("building the index failed".into()))?;
    exported?;
    Ok(built)
}

/// One person found by a search: the best-scoring slot of that person.
#[derive(Debug, Clone)]
pub struct Hit {
    pub person: PersonId,
    pub candidate: Candidate,
    /// The indexed description that scored (as its source wrote it).
    pub record: MatchRecord,
    /// `SOURCE:RECORD_ID` of that description.
    pub source: String,
}

/// The registry index kept up to date while the server runs.
#[derive(Debug)]
pub struct LiveIndex {
    store: Arc<dyn Store>,
    reg: RwLock<RegistryIndex>,
    /// Leaves below this index are in the index.
    watermark: AtomicU64,
    nudge: Arc<Notify>,
    /// One catch-up at a time (the follower and a caller that wants to be current).
    catching_up: tokio::sync::Mutex<()>,
    /// False while a server loads the index ([`LiveIndex::loading`]): searches
    /// are refused and background matching waits, since an incomplete index
    /// would miss people silently.
    ready: tokio::sync::watch::Sender<bool>,
}

impl LiveIndex {
    /// Builds the index from the store, ready when it returns.
    ///
    /// # Errors
    /// The store's error.
    pub async fn build(store: Arc<dyn Store>) -> Result<Arc<Self>, StoreError> {
        let index = Self::loading(store);
        index.load().await?;
        Ok(index)
    }

    /// An index not loaded yet: not ready until [`LiveIndex::load`] has
    /// run. A server answers while it loads, refusing only searches.
    pub fn loading(store: Arc<dyn Store>) -> Arc<Self> {
        Self::with_readiness(store, false)
    }

    /// An empty index at leaf 0, ready: following the log indexes the
    /// whole registry (every version), slice by slice.
    pub fn empty(store: Arc<dyn Store>) -> Arc<Self> {
        Self::with_readiness(store, true)
    }

    fn with_readiness(store: Arc<dyn Store>, ready: bool) -> Arc<Self> {
        Arc::new(Self {
            store,
            reg: RwLock::new(RegistryIndex::default()),
            watermark: AtomicU64::new(0),
            nudge: Arc::new(Notify::new()),
            catching_up: tokio::sync::Mutex::new(()),
            ready: tokio::sync::watch::Sender::new(ready),
        })
    }

    /// Loads every source record's latest identity from the store (faster
    /// than following the whole log) and marks the index ready. Changes
    /// sequenced after the tree size read first are followed by
    /// [`LiveIndex::catch_up`]; a change both exported and followed only
    /// adds a duplicate slot, which a search folds into its person. Does
    /// nothing to an index that is ready already.
    ///
    /// # Errors
    /// The store's error; the index stays not ready, and loading may be retried.
    pub async fn load(&self) -> Result<usize, StoreError> {
        let _one = self.catching_up.lock().await;
        if self.is_ready() {
            return Ok(0);
        }
        let head = self.store.tree_head().await?;
        let reg = load_index(self.store.as_ref()).await?;
        let slots = reg.index.len();
        *self.reg.write().unwrap_or_else(std::sync::PoisonError::into_inner) = reg;
        self.watermark.store(head.size, Ordering::Release);
        self.ready.send_replace(true);
        Ok(slots)
    }

    /// Whether searches are answered (the index is loaded).
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Returns once the index is ready.
    pub async fn until_ready(&self) {
        let mut ready = self.ready.subscribe();
        // The sender lives as long as `self`: this cannot fail while borrowed.
        let _ = ready.wait_for(|r| *r).await;
    }

    /// What wakes the follower: the sequencer notifies it when the tree grew.
    pub fn nudger(&self) -> Arc<Notify> {
        self.nudge.clone()
    }

    /// Source records indexed (slots).
    pub fn len(&self) -> usize {
        self.reg.read().unwrap_or_else(std::sync::PoisonError::into_inner).index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf index up to which the registry is indexed.
    pub fn watermark(&self) -> u64 {
        self.watermark.load(Ordering::Acquire)
    }

    /// Asks the follower to look now (after a write of this process).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Indexes every identity version sequenced since the watermark.
    /// Returns how many slots were added.
    ///
    /// # Errors
    /// The store's error; the watermark stays where it was.
    pub async fn catch_up(&self) -> Result<usize, StoreError> {
        let _one = self.catching_up.lock().await;
        if !self.is_ready() {
            // Loading sets the watermark; following starts from there.
            return Ok(0);
        }
        let head = self.store.tree_head().await?.size;
        let mut added = 0;
        let mut from = self.watermark();
        while from < head {
            let to = head.min(from + CATCH_UP_SLICE);
            let rows = self.store.identities_in_leaves(from, to).await?;
            if !rows.is_empty() {
                let records: Vec<(MatchRecord, String)> = rows
                    .iter()
                    .map(|r| (to_match_record(r), format!("{}:{}", r.source.source, r.source.record_id)))
                    .collect();
                added += records.len();
                let mut reg = self.reg.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                for (record, source) in records {
                    reg.index.insert(record);
                    reg.sources.push(source);
                }
            }
            self.watermark.store(to, Ordering::Release);
            from = to;
        }
        Ok(added)
    }

    /// Follows the log until `shutdown` changes, from when the index is
    /// ready: every `every`, or at once when nudged.
    pub async fn follow(self: Arc<Self>, every: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        tokio::select! {
            () = self.until_ready() => {}
            _ = shutdown.changed() => return,
        }
        loop {
            match self.catch_up().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(added = n, watermark = self.watermark(), "registry index caught up"),
                Err(e) => tracing::error!(error = %e, "following the registry failed; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.nudge.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// The persons most like `query`, best first, each once (its best
    /// slot), at most `limit`. Searching is CPU work: call it from a
    /// blocking thread when the index is large.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] while the index is loading: an answer
    /// from part of the registry would say "no one" about people it holds.
    pub fn search(&self, query: &MatchRecord, limit: usize) -> Result<Vec<Hit>, StoreError> {
        if !self.is_ready() {
            return Err(StoreError::Unavailable(INDEX_LOADING));
        }
        let reg = self.reg.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A person reported by both parties (or amended) has several slots:
        // ask for more and keep each person's best.
        let found = reg.index.search(query, limit.saturating_mul(4).max(limit));
        let mut seen: HashMap<&str, ()> = HashMap::new();
        let mut hits = Vec::new();
        for c in &found {
            if hits.len() >= limit || seen.insert(c.id.as_str(), ()).is_some() {
                continue;
            }
            let Ok(person) = c.id.parse::<PersonId>() else { continue };
            let Some(record) = reg.index.get(c.slot).map(|p| p.record().clone()) else { continue };
            let source = reg.sources.get(c.slot).cloned().unwrap_or_default();
            hits.push(Hit { person, candidate: c.clone(), record, source });
        }
        Ok(hits)
    }
}
