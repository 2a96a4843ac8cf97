//! `homeward log verify`: recompute the log from the database and name what
//! differs: an edited, deleted or inserted record; a removed, reordered or
//! truncated leaf; an entry not written by homeward (its MAC fails) or
//! dated before the leaf ahead of it; a tree or checkpoint that does not
//! match; a history rewritten since a checkpoint saved earlier or since one
//! a witness cosigned.
//!
//! It never passes with nothing to vouch for the log: a log with leaves
//! and no signed checkpoint fails, and so does a witness that cannot be
//! asked. What the database alone cannot show (the latest leaves deleted
//! together with every checkpoint above them) the witnesses show: each
//! keeps the last checkpoint it cosigned (docs/LOG.md).
//!
//! Problems name records and leaves by homeward's ids, never by content.

use std::sync::Arc;

use homeward_store::{AuditItem, LogEntry, Store};
use homeward_tlog::{
    Hash, MemoryStore, Verifier, open_checkpoint, split_stored_hash_index, stored_hash_count, tree_hash,
};
use serde::Serialize;

use super::LogError;
use super::witnesses::Witnesses;

/// What kind of difference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A record's content no longer matches its commitment.
    EditedRecord,
    /// A record row that no log entry names.
    UnloggedRecord,
    /// A log entry whose record row is gone.
    DeletedRecord,
    /// Leaf indexes are not contiguous: a leaf was removed.
    MissingLeaf,
    /// A stored tree hash differs from the one recomputed from the entries.
    TreeMismatch,
    /// The stored tree size or root differs from the recomputation.
    HeadMismatch,
    /// A stored checkpoint does not open with the log key, or does not match the tree.
    BadCheckpoint,
    /// The log is smaller than a checkpoint says it was.
    Truncated,
    /// The tree at a checkpoint's size has a different root: history was rewritten.
    RewrittenHistory,
    /// An entry whose MAC is missing or wrong: written by someone who could
    /// write the database but not read the key files.
    ForgedEntry,
    /// A leaf dated before the leaf ahead of it.
    Backdated,
    /// Nothing vouches for the log: no signed checkpoint, or a witness that
    /// could not be asked what it cosigned.
    Unvouched,
    /// The latest checkpoint lacks a required witness's cosignature.
    MissingCosignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Sequenced leaves recomputed.
    pub leaves: u64,
    /// Entries still waiting for the sequencer.
    pub waiting: u64,
    /// Records checked against their commitments.
    pub records: u64,
    /// Checkpoints checked (stored, saved by the caller, and the witnesses').
    pub checkpoints: usize,
    /// Witnesses asked for the checkpoint they last cosigned.
    pub witnesses: usize,
    /// Every difference found, the first one first.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn problem(kind: ProblemKind, message: String) -> Problem {
    Problem { kind, message }
}

/// What to check the log against besides the database.
#[derive(Debug, Default)]
pub struct VerifyOptions<'a> {
    /// A checkpoint saved earlier by the caller (an auditor's copy), checked
    /// like the stored ones.
    pub against: Option<&'a str>,
    /// Witnesses to ask for the checkpoint each last cosigned; a witness
    /// that does not answer is a problem.
    pub witnesses: Option<&'a Witnesses>,
    /// The latest stored checkpoint must carry a valid cosignature of each
    /// required witness.
    pub require_cosignatures: bool,
}

/// Recomputes and compares everything (see [`VerifyOptions`]).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify(
    store: Arc<dyn Store>,
    log_key: &Verifier,
    options: VerifyOptions<'_>,
) -> Result<VerifyReport, LogError> {
    let against = options.against;
    let mut problems = Vec::new();

    // 1. Leaves, in order, recomputed into a tree of our own.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<LogEntry>(4096);
    let reader = {
        let store = store.clone();
        tokio::spawn(async move { store.audit_entries(tx).await })
    };
    let mut tree = MemoryStore::new();
    let mut batch: Vec<Hash> = Vec::with_capacity(4096);
    let mut waiting = 0u64;
    let mut contiguous = true;
    let mut expected = 0u64;
    // Entries with a MAC give version 2 leaves; once one is seen, an entry
    // without is one written behind homeward's back.
    let mut seen_v2 = false;
    let mut last_time: Option<(u64, i64)> = None;
    while let Some(entry) = rx.recv().await {
        let place = match entry.leaf_index {
            Some(i) => format!("leaf {i}"),
            None => format!("waiting entry {}", entry.id),
        };
        match entry.mac {
            Some(_) if store.entry_authentic(&entry) => seen_v2 = true,
            Some(_) => problems.push(problem(
                ProblemKind::ForgedEntry,
                format!("{place}: its MAC does not verify: it was not written by homeward"),
            )),
            None if seen_v2 => problems.push(problem(
                ProblemKind::ForgedEntry,
                format!("{place}: it has no MAC, after entries that have one: it was not written by homeward"),
            )),
            None => {}
        }
        let Some(index) = entry.leaf_index else {
            waiting += 1;
            continue;
        };
        // Version 1 leaves were not promised to be in time order (PostgreSQL's
        // concurrent writers); version 2 leaves are.
        let time = entry.leaf_time_ms.unwrap_or(entry.time_ms);
        if let Some((before, t)) = last_time
            && entry.mac.is_some()
            && time < t
        {
            problems.push(problem(
                ProblemKind::Backdated,
                format!("leaf {index} is dated {} ms before leaf {before}: it was backdated", t - time),
            ));
        }
        last_time = Some((index, last_time.map_or(time, |(_, t)| t.max(time))));
        if !contiguous {
            continue;
        }
        if index != expected {
            problems.push(problem(
                ProblemKind::MissingLeaf,
                format!("leaf {expected} is missing: after leaf {} the next is {index}", expected.wrapping_sub(1)),
            ));
            contiguous = false;
            continue;
        }
        let leaf = entry.leaf().expect("sequenced");
        match leaf.leaf_hash() {
            Ok(h) => batch.push(h),
            Err(e) => {
                problems.push(problem(ProblemKind::TreeMismatch, format!("leaf {index}: not a valid leaf ({e})")));
                contiguous = false;
                continue;
            }
        }
        expected += 1;
        if batch.len() == batch.capacity() {
            tree.append_batch(&batch)?;
            batch.clear();
        }
    }
    tree.append_batch(&batch)?;
    reader.await??;
    let leaves = tree.size();

    // 2. Stored hashes against the recomputed ones.
    if contiguous {
        let stored_count = stored_hash_count(leaves);
        let mut at = 0u64;
        const CHUNK: u64 = 1 << 16;
        while at < stored_count {
            let end = (at + CHUNK).min(stored_count);
            let stored = store.stored_hashes(at, end).await?;
            let mine = &tree.stored()[at as usize..end as usize];
            if let Some(k) = (0..mine.len()).find(|&k| stored.get(k) != Some(&mine[k])) {
                let (level, n) = split_stored_hash_index(at + k as u64);
                let message = if level == 0 {
                    format!(
                        "leaf {n}: the stored leaf hash differs from its entry (an entry was edited, or leaves reordered)"
                    )
                } else {
                    format!("tree hash at level {level}, index {n} differs from the one recomputed from the entries")
                };
                problems.push(problem(ProblemKind::TreeMismatch, message));
                break;
            }
            at = end;
        }
    }
    let root_at = |size: u64| tree_hash(size, &tree).ok();

    // 3. The stored head.
    let head = store.tree_head().await?;
    if contiguous && head.size != leaves {
        problems.push(problem(
            ProblemKind::HeadMismatch,
            format!("the stored tree size is {} but {leaves} leaves are in the log", head.size),
        ));
    } else if contiguous && root_at(leaves) != Some(head.root) {
        problems.push(problem(
            ProblemKind::HeadMismatch,
            format!("the stored root of {leaves} leaves differs from the recomputed one"),
        ));
    }

    // 4. Checkpoints: stored ones, then the caller's.
    let mut checked = 0;
    let stored = store.checkpoints().await?;
    let external = against.map(|text| ("the saved checkpoint".to_owned(), text.to_owned()));
    let mut notes: Vec<(String, Option<u64>, String)> =
        stored.iter().map(|c| (format!("checkpoint {}", c.size), Some(c.size), c.note.clone())).collect();
    notes.extend(external.map(|(name, note)| (name, None, note)));
    let mut asked = 0;
    if let Some(w) = options.witnesses {
        for (name, answer) in w.latest_cosigned(log_key.name()).await {
            asked += 1;
            match answer {
                Ok(Some(note)) => notes.push((format!("the checkpoint witness {name} cosigned"), None, note)),
                // A witness that never cosigned this log vouches for nothing yet.
                Ok(None) => {}
                Err(reason) => problems.push(problem(
                    ProblemKind::Unvouched,
                    format!(
                        "witness {name} could not be asked what it cosigned ({reason}): the log is not vouched for"
                    ),
                )),
            }
        }
    }
    for (name, row_size, note) in notes {
        checked += 1;
        let (cp, _) = match open_checkpoint(&note, log_key.name(), std::slice::from_ref(log_key)) {
            Ok(x) => x,
            Err(e) => {
                problems
                    .push(problem(ProblemKind::BadCheckpoint, format!("{name} does not verify with the log key: {e}")));
                continue;
            }
        };
        if let Some(row) = row_size
            && row != cp.size
        {
            problems.push(problem(
                ProblemKind::BadCheckpoint,
                format!("{name}: the row holds the signed checkpoint of {} leaves, not {row}", cp.size),
            ));
        }
        if cp.size > leaves {
            problems.push(problem(
                ProblemKind::Truncated,
                format!("{name} is signed for {} leaves but the log has {leaves}: leaves were removed", cp.size),
            ));
        } else if contiguous && root_at(cp.size) != Some(cp.root) {
            problems.push(problem(
                ProblemKind::RewrittenHistory,
                format!("{name}: the first {} leaves have a different root now: history was rewritten", cp.size),
            ));
        }
    }

    if leaves > 0 && stored.is_empty() {
        problems.push(problem(
            ProblemKind::Unvouched,
            format!("no signed checkpoint is stored for the log's {leaves} leaves: nothing vouches for them"),
        ));
    }
    if options.require_cosignatures
        && let Some(w) = options.witnesses
        && let Some(latest) = stored.last()
    {
        for name in w.required_missing(&latest.note) {
            problems.push(problem(
                ProblemKind::MissingCosignature,
                format!("checkpoint {} has no valid cosignature of the required witness {name}", latest.size),
            ));
        }
    }

    // 5. Records against their commitments.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<AuditItem>(4096);
    let reader = {
        let store = store.clone();
        tokio::spawn(async move { store.audit_records(tx).await })
    };
    let mut records = 0u64;
    while let Some(item) = rx.recv().await {
        match item {
            AuditItem::Record { record, entry } => {
                records += 1;
                let id = record.record_id();
                match entry {
                    None => problems.push(problem(
                        ProblemKind::UnloggedRecord,
                        format!(
                            "record {id} has no log entry: it was written outside homeward, or its entry was deleted"
                        ),
                    )),
                    Some(e) if e.record_type != record.record_type() || e.record_id != id => problems.push(problem(
                        ProblemKind::EditedRecord,
                        format!("record {id} points to the log entry of {}", e.record_id),
                    )),
                    Some(e) if record.commitment(&e.salt) != e.commitment => problems.push(problem(
                        ProblemKind::EditedRecord,
                        format!("record {id} differs from what was logged{}: it was edited", at_leaf(&e)),
                    )),
                    Some(_) => {}
                }
            }
            AuditItem::Orphan { entry } => problems.push(problem(
                ProblemKind::DeletedRecord,
                format!(
                    "record {} was logged{} but no longer exists: it was deleted",
                    entry.record_id,
                    at_leaf(&entry)
                ),
            )),
        }
    }
    reader.await??;

    Ok(VerifyReport { leaves, waiting, records, checkpoints: checked, witnesses: asked, problems })
}

fn at_leaf(e: &LogEntry) -> String {
    match e.leaf_index {
        Some(i) => format!(" at leaf {i}"),
        None => " (entry not yet sequenced)".to_owned(),
    }
}
