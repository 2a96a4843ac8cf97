//! The shared log's use cases: sequencing waiting entries and signing
//! checkpoints, proofs, `verify`, and reveal bundles.
//!
//! The store appends entries in the same transaction as each change; this
//! module integrates them into the tree in batches (the sequencer) and signs
//! a C2SP checkpoint for every new tree size, with the key from the data
//! folder. Verification recomputes everything from the database.

pub mod keys;
pub mod reveal;
pub mod verify;
pub mod witnesses;

use std::time::Duration;

use homeward_store::{Store, StoreError, StoredCheckpoint, TreeHead};
use homeward_tlog::{
    Hash, NotFetched, PrefetchedHashes, Signer, TreeError, consistency_proof, inclusion_proof, sign_checkpoint,
};

/// Entries integrated per sequencing transaction.
pub const BATCH: usize = 16384;

/// What went wrong in a log use case, by cause (no message to parse).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A proof or root over the stored hashes failed.
    #[error("log tree: {0}")]
    Tree(#[from] TreeError<NotFetched>),
    /// Recomputing the tree in memory (verify) failed.
    #[error("log tree: {0}")]
    Recompute(#[from] TreeError<homeward_tlog::MissingHash>),
    /// The stored hashes kept asking for more hashes than a proof needs.
    #[error("log tree: too many rounds of hash reads")]
    TooManyReads,
    /// A stored entry does not make a valid leaf.
    #[error("log entry: {0}")]
    Leaf(#[from] homeward_tlog::LeafError),
    /// A tile or entry bundle could not be made.
    #[error("log tile: {0}")]
    Tile(#[from] homeward_tlog::TileError),
    /// An entry bundle was asked for beyond the sequenced entries.
    #[error("entries {start}.. are not all sequenced")]
    NotSequenced { start: u64 },
    #[error("cannot sign the checkpoint: {0}")]
    Sign(#[from] homeward_tlog::CheckpointError),
    /// A background task of the use case failed (panicked or was cancelled).
    #[error("a log task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Integrates every waiting entry and signs a checkpoint for the new size
/// (if it grew). Returns the head and whether a checkpoint was signed.
pub async fn sequence_and_sign(store: &dyn Store, signer: &Signer) -> Result<(TreeHead, bool), LogError> {
    sequence_and_publish(store, signer, None).await
}

/// As [`sequence_and_sign`], and with witnesses: the checkpoint is offered
/// to each, and stored (published) only with every required cosignature.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sequence_and_publish(
    store: &dyn Store,
    signer: &Signer,
    witnesses: Option<&witnesses::Witnesses>,
) -> Result<(TreeHead, bool), LogError> {
    let outcome = publish_round(store, signer, witnesses).await?;
    Ok((outcome.head, outcome.signed))
}

/// Whether the log is being published, as the sequencer last found it:
/// readiness and the mediator's page read it, so that an operator learns at
/// once when required witnesses refuse (after a rewrite, they rightly do) or
/// when an entry not written by homeward stops the sequencer. Writes go on
/// meanwhile: they wait, logged, for publication to resume.
#[derive(Debug, Default)]
pub struct Publication {
    blocked: std::sync::Mutex<Option<Blocked>>,
}

/// Why the log is not being published.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Blocked {
    /// The tree size waiting to be published.
    pub size: u64,
    /// What stops it, for operators (no personal data: names of witnesses,
    /// entry numbers).
    pub reason: String,
    /// Since when, Unix milliseconds.
    pub since_ms: i64,
}

impl Publication {
    /// `None` while checkpoints are published.
    pub fn blocked(&self) -> Option<Blocked> {
        self.blocked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Records that the tree of `size` leaves is not published, and why.
    pub fn block(&self, size: u64, reason: String) {
        let mut b = self.blocked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let since_ms =
            b.as_ref().filter(|old| old.reason == reason).map_or_else(homeward_store::log::now_ms, |o| o.since_ms);
        *b = Some(Blocked { size, reason, since_ms });
    }

    /// Records that checkpoints are published again.
    pub fn resume(&self) {
        *self.blocked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// What one round of the sequencer did.
#[derive(Debug)]
struct Outcome {
    head: TreeHead,
    signed: bool,
    /// The stored checkpoint covers the whole tree (signed now, or before).
    published: bool,
    /// Required witnesses that did not cosign the new checkpoint.
    missing_required: Vec<String>,
}

async fn publish_round(
    store: &dyn Store,
    signer: &Signer,
    witnesses: Option<&witnesses::Witnesses>,
) -> Result<Outcome, LogError> {
    let mut head = store.tree_head().await?;
    loop {
        let next = store.sequence(BATCH).await?;
        if next.size == head.size {
            break;
        }
        head = next;
    }
    let latest = store.latest_checkpoint().await?;
    if latest.as_ref().is_some_and(|c| c.size >= head.size) {
        return Ok(Outcome { head, signed: false, published: true, missing_required: Vec::new() });
    }
    let mut note = sign_checkpoint(signer.name(), head.size, head.root, signer)?;
    if let Some(w) = witnesses.filter(|w| !w.is_empty()) {
        let cosigned = w.cosign(store, &note, head.size).await?;
        if !cosigned.missing_required.is_empty() {
            tracing::error!(
                size = head.size,
                missing = ?cosigned.missing_required,
                "LOG NOT PUBLISHED: required witnesses did not cosign the checkpoint; writes are kept but not published"
            );
            return Ok(Outcome { head, signed: false, published: false, missing_required: cosigned.missing_required });
        }
        note = cosigned.note;
    }
    store.save_checkpoint(&StoredCheckpoint { size: head.size, note }).await?;
    Ok(Outcome { head, signed: true, published: true, missing_required: Vec::new() })
}

/// One round, its outcome told to `publication`.
async fn publish_and_tell(
    store: &dyn Store,
    signer: &Signer,
    witnesses: Option<&witnesses::Witnesses>,
    publication: &Publication,
) -> Result<Outcome, LogError> {
    match publish_round(store, signer, witnesses).await {
        Ok(o) if !o.missing_required.is_empty() => {
            let names = o.missing_required.join(", ");
            publication.block(
                o.head.size,
                format!("the required witnesses {names} did not cosign the checkpoint of {} leaves", o.head.size),
            );
            Ok(o)
        }
        Ok(o) => {
            if o.published {
                publication.resume();
            }
            Ok(o)
        }
        Err(e) => {
            let size = store.tree_head().await.map(|h| h.size).unwrap_or_default();
            publication.block(size, format!("sequencing failed: {e}"));
            Err(e)
        }
    }
}

/// Runs the sequencer until `shutdown` resolves: every accepted write is in
/// a signed checkpoint within about `interval` plus the time to sign.
pub async fn run_sequencer(
    store: std::sync::Arc<dyn Store>,
    signer: Signer,
    witnesses: Option<std::sync::Arc<witnesses::Witnesses>>,
    interval: Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    run_sequencer_notifying(store, signer, witnesses, interval, shutdown, None).await;
}

/// [`run_sequencer`], notifying `grown` whenever the tree grew (the live
/// registry index then reads the new leaves at once) and telling
/// `publication` whether checkpoints are published.
pub async fn run_sequencer_notifying(
    store: std::sync::Arc<dyn Store>,
    signer: Signer,
    witnesses: Option<std::sync::Arc<witnesses::Witnesses>>,
    interval: Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
    grown: Option<std::sync::Arc<tokio::sync::Notify>>,
) {
    run_sequencer_publishing(store, signer, witnesses, interval, shutdown, grown, std::sync::Arc::default()).await;
}

/// The sequencer loop (see [`run_sequencer_notifying`]).
pub async fn run_sequencer_publishing(
    store: std::sync::Arc<dyn Store>,
    signer: Signer,
    witnesses: Option<std::sync::Arc<witnesses::Witnesses>>,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    grown: Option<std::sync::Arc<tokio::sync::Notify>>,
    publication: std::sync::Arc<Publication>,
) {
    let mut last_size = None;
    loop {
        match publish_and_tell(store.as_ref(), &signer, witnesses.as_deref(), &publication).await {
            Ok(o) => {
                if o.signed {
                    tracing::debug!(size = o.head.size, "checkpoint signed");
                }
                if last_size != Some(o.head.size) {
                    last_size = Some(o.head.size);
                    if let Some(n) = &grown {
                        n.notify_one();
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "sequencing failed; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {
                // One last round, so that nothing accepted waits for the next start.
                if let Err(e) = publish_and_tell(store.as_ref(), &signer, witnesses.as_deref(), &publication).await {
                    tracing::error!(error = %e, "final sequencing failed");
                }
                return;
            }
        }
    }
}

/// Runs a tree computation over the store's stored hashes: the tree
/// functions read synchronously, so the hashes they ask for are fetched (in
/// one query per round) and the computation runs again.
async fn with_hashes<T>(
    store: &dyn Store,
    f: impl Fn(&PrefetchedHashes) -> Result<T, TreeError<NotFetched>>,
) -> Result<T, LogError> {
    let mut reader = PrefetchedHashes::new();
    for _ in 0..64 {
        match f(&reader) {
            Ok(v) => return Ok(v),
            Err(TreeError::Reader(NotFetched)) => {
                let want = reader.take_missing();
                let got = store.read_hashes(&want).await?;
                reader.add(want.into_iter().zip(got));
            }
            Err(e) => return Err(LogError::Tree(e)),
        }
    }
    Err(LogError::TooManyReads)
}

/// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
pub async fn prove_inclusion(store: &dyn Store, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
    with_hashes(store, |r| inclusion_proof(index, size, r)).await
}

/// RFC 9162 consistency proof from `old` to `new` leaves.
pub async fn prove_consistency(store: &dyn Store, old: u64, new: u64) -> Result<Vec<Hash>, LogError> {
    with_hashes(store, |r| consistency_proof(old, new, r)).await
}

/// The root of the first `size` leaves.
pub async fn root_at(store: &dyn Store, size: u64) -> Result<Hash, LogError> {
    with_hashes(store, |r| homeward_tlog::tree_hash(size, r)).await
}

/// A C2SP tlog-tiles hash tile's data, read from the stored hashes.
pub async fn tile_data(store: &dyn Store, tile: &homeward_tlog::Tile) -> Result<Vec<u8>, LogError> {
    with_hashes(store, |r| homeward_tlog::read_tile(tile, r)).await
}

/// A C2SP tlog-tiles entry bundle: the leaves' bytes, each with its length.
pub async fn entry_bundle_data(store: &dyn Store, bundle: &homeward_tlog::EntryBundle) -> Result<Vec<u8>, LogError> {
    let start = bundle.start_index();
    let entries = store.entries(start, start + u64::from(bundle.width())).await?;
    if entries.len() != usize::from(bundle.width()) {
        return Err(LogError::NotSequenced { start });
    }
    let leaves = entries.iter().map(|e| e.leaf().expect("sequenced").to_bytes()).collect::<Result<Vec<_>, _>>()?;
    Ok(homeward_tlog::encode_entry_bundle(&leaves)?)
}
