//! Blocking keys and the in-memory index: from each blocking key to the
//! slots of the records that have it, so a search compares a description
//! with the few hundred records sharing a key, never with the whole
//! registry. A bulk load into an empty index (a batch's registry) is kept
//! in frozen sorted arrays (`postings.rs`); records added one by one
//! (the server's live index) go to hash maps.
//!
//! Keys are chosen so that no single error hides a match: a typo in the
//! surname leaves the birth date, the given name with the birth year and
//! the service number; a wrong birth date leaves the surname keys; a
//! diminutive meets its full name through the given-name class. A block
//! larger than the cap (a common surname in a large registry) is skipped
//! and counted; the same surname combined with the birth year or the
//! given name, which is always indexed too, stays small.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use rayon::prelude::*;

use crate::compare::compare_with;
use crate::hot_blocks::HotBlocks;
use crate::model::{Explanation, Model};
use crate::postings::{FrozenPostings, GroupedRun, group_bits};
use crate::record::{Hot, MatchRecord, PreparedRecord, Preparer, prepare_parallel};

/// Kinds of blocking key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// A Daitch-Mokotoff code of the surname.
    SurnameCode,
    /// A surname code and the birth year.
    SurnameCodeYear,
    /// A surname code and the given-name class (or key).
    SurnameCodeGiven,
    /// The first four letters of the surname key.
    SurnamePrefix,
    /// The surname prefix and the given-name class.
    SurnamePrefixGiven,
    /// The full birth date, day and month in either order.
    BirthDate,
    /// The birth year and the given-name class.
    YearGiven,
    /// The digits of the service number.
    ServiceNumber,
    /// The service number as it is and with one digit deleted (any
    /// position): two numbers one substitution, insertion, deletion or
    /// transposition apart share one of these.
    ServiceNumberDeletion,
}

impl KeyKind {
    /// Every kind.
    pub const ALL: [KeyKind; 9] = [
        KeyKind::SurnameCode,
        KeyKind::SurnameCodeYear,
        KeyKind::SurnameCodeGiven,
        KeyKind::SurnamePrefix,
        KeyKind::SurnamePrefixGiven,
        KeyKind::BirthDate,
        KeyKind::YearGiven,
        KeyKind::ServiceNumber,
        KeyKind::ServiceNumberDeletion,
    ];

    /// Whether this kind holds the surname.
    #[must_use]
    pub fn is_surname(self) -> bool {
        matches!(
            self,
            KeyKind::SurnameCode
                | KeyKind::SurnameCodeYear
                | KeyKind::SurnameCodeGiven
                | KeyKind::SurnamePrefix
                | KeyKind::SurnamePrefixGiven
        )
    }

    /// This kind's bit in a set of kinds.
    #[must_use]
    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// What blocking did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockingStats {
    /// Candidate pairs compared.
    pub pairs: u64,
    /// Lookups of a key whose block exceeded the cap and was skipped, per
    /// kind.
    pub skipped: HashMap<KeyKind, u64>,
    /// Searched records that had no candidate at all.
    pub without_candidates: u64,
}

impl BlockingStats {
    pub(crate) fn merge(&mut self, other: &BlockingStats) {
        self.pairs += other.pairs;
        self.without_candidates += other.without_candidates;
        for (k, v) in &other.skipped {
            *self.skipped.entry(*k).or_default() += v;
        }
    }
}

/// Default cap on a block's size: beyond it the block is skipped, and the
/// finer keys of the same records (surname code with year, with given
/// name) find the match. Three hundred bounds a search at a few
/// thousand comparisons; on the synthetic 10k × 50k set it loses no match
/// that a cap of a thousand finds, at half the time.
pub const DEFAULT_BLOCK_CAP: usize = 300;

/// Records whose blocking keys one piece of work computes, in a bulk load.
const KEY_CHUNK: usize = 4_096;

/// Blocking keys per record a bulk load makes room for at first.
const KEYS_ROOM: usize = 32;

/// Records below which a bulk build inserts them one by one.
const MIN_BULK: usize = 10_000;

/// A blocking key: a 64-bit hash of its kind and parts (foldhash with a
/// fixed seed: keys live only in memory, and the same parts must give the
/// same key on every thread). A collision only adds a comparison, it
/// never loses a match.
fn key_hash(kind: KeyKind, parts: impl Hash) -> u64 {
    const SEED: u64 = 0x686f_6d65_7761_7264;
    foldhash::fast::FixedState::with_seed(SEED).hash_one((kind as u8, parts))
}

/// The keys are hashes already: the map only needs them spread.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The slots under one key. Most keys hold one record (a service number
/// with a digit deleted, a rare surname with a birth year): such a key
/// keeps its slot without an allocation of its own, which at a million
/// records saves millions of them, to make and to free.
#[derive(Debug, Clone)]
enum Slots {
    One(u32),
    Many(Vec<u32>),
}

impl Slots {
    fn push(&mut self, slot: u32) {
        match self {
            Slots::One(first) => *self = Slots::Many(vec![*first, slot]),
            Slots::Many(v) => v.push(slot),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Slots::One(s) => std::slice::from_ref(s),
            Slots::Many(v) => v,
        }
    }
}

/// Adds a slot under a key.
fn post(map: &mut Postings, key: u64, slot: u32) {
    map.entry(key).and_modify(|s| s.push(slot)).or_insert(Slots::One(slot));
}

type Postings = HashMap<u64, Slots, BuildHasherDefault<PreHashed>>;

/// Number of posting maps; a key's map is its top bits.
const SHARDS: usize = 4;

fn shard(key: u64) -> usize {
    usize::try_from(key >> 62).unwrap_or(0) % SHARDS
}

/// The blocking keys of a record: all of them when it enters the index;
/// for a search (`search`), the surname alone only when the record has
/// neither a given name nor a birth year. The surname alone makes the
/// largest blocks (on the synthetic 10k x 50k set, half of all candidate
/// pairs) and finds almost nothing that the surname with the given name or
/// with the birth year does not: one true pair in 6,019, and none in
/// 59,923 at 100k x 500k.
pub(crate) fn blocking_keys(p: &PreparedRecord, out: &mut Vec<(KeyKind, u64)>, search: bool) {
    out.clear();
    // The given-name part of combined keys: the classes, or the key of an
    // unknown name (no list: this runs for every record of a batch).
    let unknown = p.given.codes.is_empty() && !p.given.key.is_empty();
    // (the key's own hash, with the top bit set: class numbers are small).
    let unknown = unknown.then_some(p.given.key.hash | 1 << 63);
    let given = || p.given.codes.iter().map(|c| u64::from(c.raw())).chain(unknown);
    let year = p.birth.map(|b| b.year);
    let surname_alone = !search || (given().next().is_none() && year.is_none());
    for &code in p.family.codes.iter() {
        if surname_alone {
            out.push((KeyKind::SurnameCode, key_hash(KeyKind::SurnameCode, code)));
        }
        if let Some(y) = year {
            out.push((KeyKind::SurnameCodeYear, key_hash(KeyKind::SurnameCodeYear, (code, y))));
        }
        for g in given() {
            out.push((KeyKind::SurnameCodeGiven, key_hash(KeyKind::SurnameCodeGiven, (code, g))));
        }
    }
    // The first four letters of the surname key, spaces left out.
    let mut prefix = ['\0'; 4];
    for (slot, c) in prefix.iter_mut().zip(p.family.key.chars().filter(|c| *c != ' ')) {
        *slot = c;
    }
    if prefix[0] != '\0' {
        if surname_alone {
            out.push((KeyKind::SurnamePrefix, key_hash(KeyKind::SurnamePrefix, prefix)));
        }
        for g in given() {
            out.push((KeyKind::SurnamePrefixGiven, key_hash(KeyKind::SurnamePrefixGiven, (prefix, g))));
        }
    }
    if let Some(b) = p.birth {
        if let (Some(m), Some(d)) = (b.month, b.day) {
            let (lo, hi) = (m.min(d), m.max(d));
            out.push((KeyKind::BirthDate, key_hash(KeyKind::BirthDate, (b.year, lo, hi))));
        }
        for g in given() {
            out.push((KeyKind::YearGiven, key_hash(KeyKind::YearGiven, (b.year, g))));
        }
    }
    let service = p.service();
    let s = service.as_bytes();
    // Short numbers would put unrelated people in one block.
    if s.len() >= 5 {
        out.push((KeyKind::ServiceNumber, key_hash(KeyKind::ServiceNumber, s)));
        // The number itself and with each digit deleted in turn, hashed
        // whole: two numbers meet when what is left is the same, wherever
        // the digit was (a substitution or a transposition), or when one
        // is the other with a digit deleted (an insertion or a deletion).
        out.push((KeyKind::ServiceNumberDeletion, key_hash(KeyKind::ServiceNumberDeletion, s)));
        let (mut short, mut long) = ([0u8; 32], Vec::new());
        let buf: &mut [u8] = match short.get_mut(..s.len() - 1) {
            Some(b) => b,
            None => {
                long.resize(s.len() - 1, 0);
                &mut long
            }
        };
        for i in 0..s.len() {
            // Deleting either of two equal neighbours leaves the same
            // digits: a run of equal digits gives its key once.
            if i > 0 && s.get(i) == s.get(i - 1) {
                continue;
            }
            let (head, tail) = (s.get(..i).unwrap_or(&[]), s.get(i + 1..).unwrap_or(&[]));
            if let Some((h, t)) = buf.split_at_mut_checked(i) {
                h.copy_from_slice(head);
                t.copy_from_slice(tail);
            }
            out.push((KeyKind::ServiceNumberDeletion, key_hash(KeyKind::ServiceNumberDeletion, &*buf)));
        }
    }
    // No key repeats (the surname codes and given-name classes are
    // distinct, and each kind hashes its own parts), so there is nothing
    // to sort out: a record's keys were sorted and deduplicated here
    // before, a fiftieth of a batch's time. Two keys could only be equal
    // by a 64-bit collision, which posts a slot twice under one key; the
    // candidates' merge counts it once.
}

thread_local! {
    /// Per thread: the table of slots met by the searches that run on it
    /// ([`Met`]), kept between them (each clears what it set) and as large
    /// as the largest index the thread searched: a bit per record, and two
    /// bytes per record where the kinds were asked for (a batch's
    /// estimation sample).
    static MET: RefCell<Met> = RefCell::new(Met::default());
}

/// The slots a search meets in its blocks, each once with all the kinds
/// it was met under, in slot order. A dozen blocks' slots were merged by
/// sorting them all (a twentieth of a batch's time); here each slot met
/// sets a bit in a two-level bitmap (and, when asked, its kinds in a table
/// by slot), and reading the bitmap's set bits gives the slots in order
/// without sorting.
#[derive(Debug, Default)]
struct Met {
    /// The kinds each slot was met under (none: not met).
    kinds: Vec<u16>,
    /// One bit per slot met.
    bits: Vec<u64>,
    /// One bit per word of `bits` with a bit set.
    words: Vec<u64>,
    /// The range of `words` that has bits set.
    lo: usize,
    hi: usize,
}

impl Met {
    /// Makes the table as long as an index of `len` records.
    fn reserve(&mut self, len: usize, with_kinds: bool) {
        if self.bits.len() < len.div_ceil(64) {
            self.bits.resize(len.div_ceil(64), 0);
            self.words.resize(len.div_ceil(64 * 64), 0);
        }
        if with_kinds && self.kinds.len() < len {
            self.kinds.resize(len, 0);
        }
    }

    /// Marks the slots of a block (in order), and with `kind` (a
    /// [`KeyKind::bit`]) the kind each was met under.
    fn meet(&mut self, slots: &[u32], kind: Option<u16>) {
        let (Some(&first), Some(&last)) = (slots.first(), slots.last()) else { return };
        let (lo, hi) = (first as usize / (64 * 64), last as usize / (64 * 64) + 1);
        (self.lo, self.hi) = if self.lo >= self.hi { (lo, hi) } else { (self.lo.min(lo), self.hi.max(hi)) };
        for &s in slots {
            let s = s as usize;
            let word = s / 64;
            if let (Some(b), Some(w)) = (self.bits.get_mut(word), self.words.get_mut(word / 64)) {
                *b |= 1 << (s % 64);
                *w |= 1 << (word % 64);
            }
            // Only the estimation sample asks for the kinds: the table is
            // sixteen times the bitmap's size, and its loads miss the cache.
            if let (Some(bit), Some(kinds)) = (kind, self.kinds.get_mut(s)) {
                *kinds |= bit;
            }
        }
    }

    /// Gives the slots met, in order, with their kinds if `with_kinds`
    /// (else none), and clears the table for the next search.
    fn finish(&mut self, out: &mut Vec<(u32, u16)>, with_kinds: bool) {
        let (lo, hi) = (self.lo, self.hi);
        (self.lo, self.hi) = (0, 0);
        for summary in lo..hi {
            let Some(w) = self.words.get_mut(summary) else { continue };
            let mut w = std::mem::take(w);
            while w != 0 {
                let word = summary * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                let Some(b) = self.bits.get_mut(word) else { continue };
                let mut b = std::mem::take(b);
                while b != 0 {
                    let s = word * 64 + b.trailing_zeros() as usize;
                    b &= b - 1;
                    let kinds = if with_kinds { self.kinds.get_mut(s).map_or(0, std::mem::take) } else { 0 };
                    out.push((u32::try_from(s).unwrap_or(u32::MAX), kinds));
                }
            }
        }
    }
}

/// A registry record found by a search, with its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The record's id.
    pub id: String,
    /// Its slot in the index.
    pub slot: usize,
    /// Match probability.
    pub probability: f64,
    /// Sum of the field weights (log2 Bayes factor).
    pub weight: f64,
    /// Per-field explanation.
    pub explanation: Explanation,
}

/// An in-memory index of prepared records, searchable by blocking key.
#[derive(Debug)]
pub struct Index {
    records: Vec<PreparedRecord>,
    /// What comparisons read of each record, by slot, packed together.
    hot: HotBlocks,
    /// The postings of the bulk load that filled an empty index
    /// ([`Index::extend_prepared`]), frozen: a batch's whole registry.
    frozen: FrozenPostings,
    /// Postings of records added one by one or to a non-empty index, in
    /// [`SHARDS`] maps by key, so that a bulk build fills them on every
    /// core.
    postings: Vec<Postings>,
    preparer: Preparer,
    model: Model,
    cap: usize,
}

/// The same as [`Index::new`]: the default block cap, not a cap of zero
/// (which would skip every block and find nothing).
impl Default for Index {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            hot: HotBlocks::default(),
            frozen: FrozenPostings::default(),
            postings: Vec::new(),
            preparer: Preparer::default(),
            model: Model::default(),
            cap: DEFAULT_BLOCK_CAP,
        }
    }
}

impl Index {
    /// An empty index with the default model and block cap.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the index from records.
    pub fn build(records: impl IntoIterator<Item = MatchRecord>) -> Self {
        let mut index = Self::new();
        index.extend_prepared(prepare_parallel(records.into_iter().collect(), &Arc::default()));
        index
    }

    /// Adds many prepared records at once, on every core: the blocking
    /// keys of chunks of records in parallel, then, into an empty index,
    /// the frozen postings ([`FrozenPostings`]) built by every core, else
    /// each posting map filled by a task of its own (inserting one by one
    /// left one core to fill the maps, a fifth of a large batch's time).
    pub(crate) fn extend_prepared(&mut self, records: Vec<PreparedRecord>) {
        let first = self.records.len();
        if records.len() < MIN_BULK {
            for p in records {
                self.insert_prepared(p);
            }
            return;
        }
        u32::try_from(first + records.len()).expect("an index holds fewer than 2^32 records");
        let t = std::time::Instant::now();
        // Per chunk: its records' postings, grouped for the frozen build
        // while they are in this core's cache; and the records' hot blocks.
        let group_bits = group_bits(records.len());
        let runs: Vec<GroupedRun> = records
            .par_chunks(KEY_CHUNK)
            .enumerate()
            .map(|(c, run)| {
                // Room for more keys than records have (a dozen or two):
                // room never written costs no memory, growing copies.
                let mut postings = Vec::with_capacity(run.len() * KEYS_ROOM);
                let mut buf = Vec::new();
                for (i, p) in run.iter().enumerate() {
                    let slot = u32::try_from(first + c * KEY_CHUNK + i).unwrap_or(u32::MAX);
                    blocking_keys(p, &mut buf, false);
                    postings.extend(buf.iter().map(|&(_, k)| (k, slot)));
                }
                GroupedRun::new(&postings, group_bits)
            })
            .collect();
        crate::link::prof("  index keys", t);
        self.hot.extend(&records);
        crate::link::prof("  index hot", t);
        if first == 0 {
            self.frozen = FrozenPostings::build(&runs, group_bits, rayon::current_num_threads());
            self.records = records;
            return;
        }
        if self.postings.len() < SHARDS {
            self.postings.resize_with(SHARDS, Postings::default);
        }
        self.postings.par_iter_mut().enumerate().for_each(|(n, map)| {
            for (k, slot) in runs.iter().flat_map(GroupedRun::iter) {
                if shard(k) == n {
                    post(map, k, slot);
                }
            }
        });
        self.records.extend(records);
    }

    /// Adds a record; returns its slot.
    pub fn insert(&mut self, record: MatchRecord) -> usize {
        let p = self.preparer.prepare(record);
        self.insert_prepared(p)
    }

    /// Adds a prepared record; returns its slot.
    pub fn insert_prepared(&mut self, p: PreparedRecord) -> usize {
        let slot = self.records.len();
        let slot32 = u32::try_from(slot).expect("an index holds fewer than 2^32 records");
        let mut keys = Vec::new();
        blocking_keys(&p, &mut keys, false);
        for (_, k) in keys {
            if self.postings.len() < SHARDS {
                self.postings.resize_with(SHARDS, Postings::default);
            }
            if let Some(map) = self.postings.get_mut(shard(k)) {
                post(map, k, slot32);
            }
        }
        self.hot.push(Hot::new(&p));
        self.records.push(p);
        slot
    }

    /// Prepares a record with this index's caches.
    pub fn prepare(&mut self, record: MatchRecord) -> PreparedRecord {
        self.preparer.prepare(record)
    }

    /// Number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the index is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record in a slot.
    #[must_use]
    pub fn get(&self, slot: usize) -> Option<&PreparedRecord> {
        self.records.get(slot)
    }

    /// The slots under a blocking key, whatever the block's size: those
    /// of the bulk load, then those added since (higher slots).
    fn block(&self, key: u64) -> (&[u32], &[u32]) {
        let added = self.postings.get(shard(key)).and_then(|m| m.get(&key)).map_or(&[][..], Slots::as_slice);
        (self.frozen.get(key), added)
    }

    /// The slots under a blocking key, whatever the block's size.
    #[cfg(test)]
    pub(crate) fn postings(&self, key: u64) -> Vec<u32> {
        let (bulk, added) = self.block(key);
        bulk.iter().chain(added).copied().collect()
    }

    /// Starts loading a slot's [`Hot`] block ([`Hot::prefetch`]).
    pub(crate) fn prefetch(&self, slot: usize) {
        if let Some(h) = self.hot.get(slot) {
            h.prefetch();
        }
    }

    /// The record in a slot with what comparisons read of it.
    pub(crate) fn get_hot(&self, slot: usize) -> Option<(&PreparedRecord, &Hot)> {
        Some((self.records.get(slot)?, self.hot.get(slot)?))
    }

    /// All records, by slot.
    #[must_use]
    pub fn records(&self) -> &[PreparedRecord] {
        &self.records
    }

    /// The model searches score with.
    #[must_use]
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Replaces the model (e.g. with one estimated by a batch linkage).
    pub fn set_model(&mut self, model: Model) {
        self.model = model;
    }

    /// The block cap.
    #[must_use]
    pub fn block_cap(&self) -> usize {
        self.cap
    }

    /// Sets the block cap: blocks with more records are skipped.
    pub fn set_block_cap(&mut self, cap: usize) {
        self.cap = cap.max(1);
    }

    /// Candidate slots for a prepared record, sorted, without repeats,
    /// each with the set of key kinds it shares ([`KeyKind::bit`]) if
    /// `with_kinds` (else none: keeping them costs a table by slot).
    ///
    /// The birth year with the given name ([`KeyKind::YearGiven`]) is
    /// looked up only when no key holding the surname found anyone (a
    /// surname written too differently, or none): with it always looked
    /// up, it made 22 % of all candidate pairs at 100k x 500k and was the
    /// only key of 206 of the 58,765 true pairs found; as a fallback,
    /// candidate pairs fell from 24.3M to 18.9M, true pairs among them by
    /// 121 (0.2 %), reported true pairs by 67 (0.13 %; F1 0.919 both).
    pub(crate) fn candidates(
        &self,
        p: &PreparedRecord,
        keys: &mut Vec<(KeyKind, u64)>,
        stats: &mut BlockingStats,
        out: &mut Vec<(u32, u16)>,
        with_kinds: bool,
    ) {
        out.clear();
        blocking_keys(p, keys, true);
        // Each step of every lookup started before any is read: the waits
        // on memory overlap ([`FrozenPostings::prefetch_entry`]).
        for &(_, k) in keys.iter() {
            self.frozen.prefetch_entry(k);
        }
        for &(_, k) in keys.iter() {
            self.frozen.prefetch_keys(k);
        }
        for &(_, k) in keys.iter() {
            if let Some(first) = self.frozen.get(k).first() {
                crate::record::prefetch(first);
            }
        }
        // Taken out while in use and put back clean: a search that fails
        // half-way leaves no marks behind for the next (it drops the
        // table, and the next search makes a new one).
        let mut met = MET.take();
        self.meet_blocks(keys, &mut met, stats, with_kinds);
        met.finish(out, with_kinds);
        MET.set(met);
        if out.is_empty() {
            stats.without_candidates += 1;
        }
        stats.pairs += out.len() as u64;
    }

    /// Marks the slots of a search's blocks in `met`: the blocks of the
    /// keys holding the surname and the others, and the birth year with
    /// the given name only when those found no one with the surname.
    fn meet_blocks(&self, keys: &[(KeyKind, u64)], met: &mut Met, stats: &mut BlockingStats, with_kinds: bool) {
        met.reserve(self.len(), with_kinds);
        let mut by_surname = false;
        for fallback in [false, true] {
            if fallback && by_surname {
                break;
            }
            for &(kind, k) in keys.iter() {
                if (kind == KeyKind::YearGiven) != fallback {
                    continue;
                }
                let (bulk, added) = self.block(k);
                let size = bulk.len() + added.len();
                if size > self.cap {
                    *stats.skipped.entry(kind).or_default() += 1;
                } else if size > 0 {
                    by_surname |= kind.is_surname();
                    for block in [bulk, added] {
                        met.meet(block, with_kinds.then_some(kind.bit()));
                    }
                }
            }
        }
    }

    /// The records most likely to describe the same person as `record`,
    /// best first, at most `limit`. Every candidate that shares a
    /// blocking key is scored and returned however low its probability:
    /// the caller decides what to show. The prior is a batch run's
    /// ([`Model::pair_prior`]): the match rate over the size of the index,
    /// shared among the candidates found.
    #[must_use]
    pub fn search(&self, record: &MatchRecord, limit: usize) -> Vec<Candidate> {
        let p = PreparedRecord::new(record.clone());
        self.search_prepared(&p, limit)
    }

    /// [`Index::search`] for a prepared record.
    #[must_use]
    pub fn search_prepared(&self, p: &PreparedRecord, limit: usize) -> Vec<Candidate> {
        let mut keys = Vec::new();
        let mut slots = Vec::new();
        let mut stats = BlockingStats::default();
        self.candidates(p, &mut keys, &mut stats, &mut slots, false);
        let hp = Hot::new(p);
        let mut scored: Vec<(f64, u32, crate::compare::Comparison)> = slots
            .iter()
            .filter_map(|&(s, _)| {
                let (r, hr) = self.get_hot(s as usize)?;
                let c = compare_with(p, &hp, r, hr, None);
                Some((self.model.total(&c), s, c))
            })
            .collect();
        // The same prior as a batch run's (`Model::pair_prior`): at most one
        // match per record, so each candidate competes with all the others
        // found, not only with those returned.
        let log2_sum = crate::link::log2_sum(scored.iter().map(|x| x.0).filter(|w| w.is_finite()));
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(limit);
        scored
            .into_iter()
            .filter_map(|(w, s, c)| {
                let r = self.records.get(s as usize)?;
                let prior = self.model.pair_prior(self.len(), log2_sum, w);
                Some(Candidate {
                    id: r.record.id.clone(),
                    slot: s as usize,
                    probability: Model::probability(prior, w),
                    weight: w,
                    explanation: self.model.explain(&c, p, r, prior),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::BirthDate;

    fn rec(id: &str, family: &str, given: &str, birth: &str, service: &str) -> MatchRecord {
        MatchRecord {
            id: id.into(),
            family_name: family.into(),
            given_names: given.into(),
            birth_date: BirthDate::parse(birth).ok(),
            service_number: Some(service.into()).filter(|s: &String| !s.is_empty()),
            ..MatchRecord::default()
        }
    }

    #[test]
    fn each_key_alone_finds_the_record() {
        let index = Index::build([rec("r1", "Коваленко", "Олександр", "1990-03-07", "12345678")]);
        let queries = [
            // Surname typo that changes the code, right date.
            rec("q1", "Bovalenko", "Ivan", "07.03.1990", ""),
            // Different surname spelling, diminutive, year only.
            rec("q2", "Xyz", "Sasha", "1990", ""),
            // Only the service number, with a typo.
            rec("q3", "Petrenko", "Ivan", "", "12354678"),
            // Surname code with a swapped date.
            rec("q4", "Kowalenko", "Petro", "1990-07-03", ""),
        ];
        for q in &queries {
            let found = index.search(q, 5);
            assert_eq!(found.len(), 1, "{}", q.id);
            assert_eq!(found[0].id, "r1");
        }
        assert!(index.search(&rec("q5", "Petrenko", "Ivan", "1970", ""), 5).is_empty());
    }

    /// Service numbers one edit apart share a key, two edits apart none,
    /// short, long (more digits than a prepared record keeps inline) and
    /// very long.
    #[test]
    fn service_numbers_one_edit_apart_share_a_key() {
        let keys = |number: &str| {
            let mut out = Vec::new();
            blocking_keys(&PreparedRecord::new(rec("r", "", "", "", number)), &mut out, false);
            out.into_iter().map(|(_, k)| k).collect::<std::collections::HashSet<u64>>()
        };
        for base in ["12345678", "1234567890123456789012345", "123456789012345678901234567890123456"] {
            let mut changed = base.to_owned();
            changed.replace_range(3..4, "9");
            let mut swapped: Vec<u8> = base.bytes().collect();
            swapped.swap(4, 5);
            let swapped = String::from_utf8(swapped).unwrap();
            let (shorter, longer) = (base[1..].to_owned(), format!("{base}7"));
            for near in [&changed, &swapped, &shorter, &longer] {
                assert!(!keys(base).is_disjoint(&keys(near)), "{base} / {near}");
            }
            let mut far = changed.clone();
            far.replace_range(6..7, "0");
            far.replace_range(0..1, "5");
            assert!(keys(base).is_disjoint(&keys(&far)), "{base} / {far}");
        }
    }

    /// A record's keys never repeat: not for a surname with several
    /// codes, a diminutive of several names, nor a service number with
    /// runs of equal digits (whose deletions coincide).
    #[test]
    fn a_records_keys_do_not_repeat() {
        for (family, given, service) in
            [("Шварценеггер", "Саша", "1112223334"), ("Kovalenko", "Slava", "55555"), ("Ли", "", "9007700")]
        {
            let p = PreparedRecord::new(rec("r", family, given, "1990-03-07", service));
            for search in [false, true] {
                let mut keys = Vec::new();
                blocking_keys(&p, &mut keys, search);
                let distinct: std::collections::HashSet<u64> = keys.iter().map(|&(_, k)| k).collect();
                assert_eq!(distinct.len(), keys.len(), "{family} {given} {service}: {keys:?}");
            }
        }
        // A run of five equal digits: the number, and one deletion key for
        // the run instead of five.
        let mut keys = Vec::new();
        blocking_keys(&PreparedRecord::new(rec("r", "", "", "", "55555")), &mut keys, false);
        assert_eq!(keys.iter().filter(|(kind, _)| *kind == KeyKind::ServiceNumberDeletion).count(), 2, "{keys:?}");
    }

    /// What [`Index::candidates`] gives, worked out the plain way: every
    /// slot of every block within the cap (the birth year with the given
    /// name only when no surname key found anyone), sorted, once each
    /// with the kinds it was met under.
    fn candidates_by_sorting(index: &Index, p: &PreparedRecord) -> Vec<(u32, u16)> {
        let mut keys = Vec::new();
        blocking_keys(p, &mut keys, true);
        let mut all: Vec<(u32, u16)> = Vec::new();
        let mut by_surname = false;
        for fallback in [false, true] {
            if fallback && by_surname {
                break;
            }
            for &(kind, k) in keys.iter().filter(|(kind, _)| (*kind == KeyKind::YearGiven) == fallback) {
                let slots = index.postings(k);
                if !slots.is_empty() && slots.len() <= index.block_cap() {
                    by_surname |= kind.is_surname();
                    all.extend(slots.iter().map(|&s| (s, kind.bit())));
                }
            }
        }
        all.sort_by_key(|&(s, _)| s);
        all.dedup_by(|next, kept| {
            next.0 == kept.0 && {
                kept.1 |= next.1;
                true
            }
        });
        all
    }

    /// The candidates of a search, from the table of slots met, are those
    /// of the plain merge, with and without the kinds, search after search
    /// on one thread (each clears what it marked), on a bulk load with
    /// records added after it, past the 4,096 slots of one bitmap word.
    #[test]
    fn candidates_are_the_blocks_merged() {
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(300, MIN_BULK + 2_000, 11));
        let (first, second) = data.registry.split_at(MIN_BULK);
        let mut index = Index::build(first.iter().cloned());
        for r in second {
            index.insert(r.clone());
        }
        let (mut keys, mut stats, mut out) = (Vec::new(), BlockingStats::default(), Vec::new());
        let mut nonempty = 0;
        for q in data.requests.iter().chain(data.registry.iter().step_by(41)) {
            let p = PreparedRecord::new(q.clone());
            let want = candidates_by_sorting(&index, &p);
            index.candidates(&p, &mut keys, &mut stats, &mut out, true);
            assert_eq!(out, want, "{}", q.id);
            index.candidates(&p, &mut keys, &mut stats, &mut out, false);
            assert_eq!(
                out.iter().map(|&(s, kinds)| (s, kinds == 0)).collect::<Vec<_>>(),
                want.iter().map(|&(s, _)| (s, true)).collect::<Vec<_>>(),
                "{}",
                q.id
            );
            nonempty += usize::from(!want.is_empty());
        }
        assert!(nonempty > 300, "{nonempty}");
        assert!(stats.pairs > 0);
    }

    #[test]
    fn a_default_index_finds_what_a_new_one_does() {
        let mut index = Index::default();
        assert_eq!(index.block_cap(), DEFAULT_BLOCK_CAP);
        index.insert(rec("r1", "Коваленко", "Олександр", "1990-03-07", ""));
        let found = index.search(&rec("q", "Kovalenko", "Sasha", "1990-03-07", ""), 5);
        assert_eq!(found.first().map(|c| c.id.as_str()), Some("r1"));
    }

    #[test]
    fn year_and_given_name_only_when_the_surname_finds_no_one() {
        let index = Index::build([
            rec("r1", "Коваленко", "Олександр", "1990-03-07", ""),
            rec("r2", "Петренко", "Іван", "1990-05-05", ""),
        ]);
        // The surname finds r2; r1 shares only the year and given name.
        let found = index.search(&rec("q1", "Petrenko", "Sasha", "1990", ""), 5);
        assert_eq!(found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), vec!["r2"]);
        // A surname no one has: the year with the given name finds r1.
        let found = index.search(&rec("q2", "Xyz", "Sasha", "1990", ""), 5);
        assert_eq!(found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), vec!["r1"]);
    }

    #[test]
    fn records_added_after_a_bulk_load_are_found_with_it() {
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(1, MIN_BULK, 5));
        let mut index = Index::build(data.registry.clone());
        assert!(index.postings.is_empty(), "a bulk load into an empty index is frozen");
        let mut twin = data.registry[0].clone();
        twin.id = "twin".into();
        let slot = index.insert(twin);
        assert_eq!(slot, MIN_BULK);
        let mut keys = Vec::new();
        blocking_keys(index.get(slot).expect("inserted"), &mut keys, false);
        assert!(!keys.is_empty());
        for &(kind, k) in &keys {
            let slots = index.postings(k);
            assert!(slots.contains(&0) && slots.last() == Some(&u32::try_from(slot).unwrap()), "{kind:?}: {slots:?}");
        }
        let found = index.search(&data.registry[0], 10);
        let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        assert!(ids.contains(&data.registry[0].id.as_str()) && ids.contains(&"twin"), "{ids:?}");
        // The cap counts both: with a cap one below the smallest of the
        // record's blocks, every block is skipped.
        let smallest = keys.iter().map(|&(_, k)| index.postings(k).len()).min().unwrap_or(0);
        index.set_block_cap(smallest - 1);
        let (mut out, mut stats) = (Vec::new(), BlockingStats::default());
        let p = index.get(0).expect("first").clone();
        index.candidates(&p, &mut keys, &mut stats, &mut out, true);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_second_bulk_load_finds_what_inserting_one_by_one_does() {
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(1, 2 * MIN_BULK, 8));
        let (first, second) = data.registry.split_at(MIN_BULK);
        let mut bulk = Index::build(first.iter().cloned());
        bulk.extend_prepared(prepare_parallel(second.to_vec(), &Arc::default()));
        assert!(!bulk.postings.is_empty(), "the second load goes to the maps");
        let mut one_by_one = Index::new();
        for r in &data.registry {
            one_by_one.insert(r.clone());
        }
        let mut keys = Vec::new();
        for slot in (0..data.registry.len()).step_by(97) {
            blocking_keys(one_by_one.get(slot).expect("slot"), &mut keys, false);
            for &(kind, k) in &keys {
                assert_eq!(bulk.postings(k), one_by_one.postings(k), "{kind:?} of slot {slot}");
            }
        }
    }

    #[test]
    fn giant_blocks_are_skipped_and_counted() {
        let mut index = Index::new();
        index.set_block_cap(3);
        for i in 0..10 {
            index.insert(rec(&i.to_string(), "Коваленко", "Іван", &format!("{}", 1980 + i), ""));
        }
        let p = PreparedRecord::new(rec("q", "Kovalenko", "Petro", "", ""));
        let (mut keys, mut out, mut stats) = (Vec::new(), Vec::new(), BlockingStats::default());
        index.candidates(&p, &mut keys, &mut stats, &mut out, true);
        assert!(out.is_empty());
        // With a given name, the surname alone is not looked up.
        assert_eq!(stats.skipped.get(&KeyKind::SurnameCode), None);
        // A surname alone is searched when there is nothing to add to it,
        // and its block is over the cap.
        let p = PreparedRecord::new(rec("q", "Kovalenko", "", "", ""));
        index.candidates(&p, &mut keys, &mut stats, &mut out, true);
        assert!(out.is_empty());
        assert!(stats.skipped.get(&KeyKind::SurnameCode).copied().unwrap_or(0) >= 1);
        // The same surname with the year is a small block.
        let found = index.search(&rec("q", "Kovalenko", "Ivan", "1983", ""), 3);
        assert_eq!(found.first().map(|c| c.id.as_str()), Some("3"));
    }
}
