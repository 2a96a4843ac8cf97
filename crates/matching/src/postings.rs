//! The postings of a bulk load, frozen: every (blocking key, slot) of a
//! batch's registry in two flat arrays sorted by key, with a directory on
//! the key's top bits. A hash map of growable lists, filled one posting at
//! a time, spent most of its time on cache misses and small allocations
//! (7.6 million postings under 2.9 million keys at 500,000 records); here
//! each core sorts the keys of its own range of the directory, with no
//! allocation per key. Records added later go to the index's hash maps.
//!
//! Keys are hashes, spread evenly, so a directory with about one entry per
//! distinct key leaves a handful of postings per entry.

use rayon::prelude::*;

use crate::record::prefetch;

/// One run of records' keys: every key of its records, record by record
/// in slot order, and where each record's keys end.
pub(crate) type KeyRun = (Vec<u64>, Vec<u32>);

/// Every (key, slot) of runs of records' keys whose first record has slot
/// `first_slot`, in slot order.
pub(crate) fn each_posting(runs: &[KeyRun], first_slot: usize) -> impl Iterator<Item = (u64, u32)> + '_ {
    let mut slot = first_slot;
    runs.iter()
        .flat_map(|(keys, ends)| {
            let mut start = 0;
            ends.iter().map(move |&end| {
                let record = keys.get(start..end as usize).unwrap_or(&[]);
                start = end as usize;
                record
            })
        })
        .flat_map(move |record| {
            let slot32 = u32::try_from(slot).unwrap_or(u32::MAX);
            slot += 1;
            record.iter().map(move |&k| (k, slot32))
        })
}

/// Frozen postings, in parts that each cover a contiguous range of the
/// directory (one part per core that built them).
#[derive(Debug, Default)]
pub(crate) struct FrozenPostings {
    /// Bits of the directory: a key's entry is its top `bits` bits.
    bits: u32,
    parts: Vec<Part>,
}

#[derive(Debug, Default)]
struct Part {
    /// First directory entry this part covers.
    first: usize,
    /// The distinct keys, sorted, each with where its slots start in
    /// `slots`; one more at the end, whose start is the end of the last
    /// key's slots.
    keys: Vec<Keyed>,
    /// Slots, by key, in slot order within a key.
    slots: Vec<u32>,
    /// Per directory entry of this part, and one past the last: where its
    /// keys start in `keys` (a lookup reads one or two keys, however many
    /// slots a key has).
    dir: Vec<u32>,
}

/// A key and a number in twelve bytes (a `(u64, u32)` takes sixteen):
/// a distinct key and where its slots start, so that a lookup finds the
/// key and both ends of its slots on one cache line (with the starts in
/// an array of their own, that was one more wait on memory per key, and a
/// batch looks up a dozen keys per request); or, while building, a
/// posting's key and slot (a quarter less memory to fill).
#[derive(Debug, Clone, Copy, Default)]
struct Keyed([u32; 3]);

impl Keyed {
    fn new(key: u64, number: u32) -> Self {
        let half = |k: u64| u32::try_from(k & 0xFFFF_FFFF).unwrap_or(0);
        Self([half(key), half(key >> 32), number])
    }

    fn key(self) -> u64 {
        u64::from(self.0[1]) << 32 | u64::from(self.0[0])
    }

    fn number(self) -> u32 {
        self.0[2]
    }
}

impl FrozenPostings {
    /// Builds the postings from runs of records' keys: per run, every
    /// key of its records in slot order and where each record's keys end
    /// (the runs follow one another from slot `first_slot`).
    pub(crate) fn build(runs: &[KeyRun], first_slot: usize, threads: usize) -> Self {
        let postings: usize = runs.iter().map(|(keys, _)| keys.len()).sum();
        // About one directory entry per two postings (a key has two or
        // three on average), at least one.
        let bits = usize::BITS - (postings / 2).max(1).leading_zeros();
        let entries = 1usize << bits;
        let threads = threads.clamp(1, entries);
        let per_part = entries.div_ceil(threads);
        let ranges: Vec<(usize, usize)> =
            (0..threads).map(|t| (t * per_part, ((t + 1) * per_part).min(entries))).collect();
        let build = |&(lo, hi): &(usize, usize)| Part::build(runs, first_slot, (bits, postings), lo, hi);
        let parts = ranges.par_iter().map(build).collect();
        Self { bits, parts }
    }

    /// The part that holds a key's directory entry, and the entry's place
    /// in it.
    fn locate(&self, key: u64) -> Option<(&Part, usize)> {
        let entry = entry_of(key, self.bits);
        let part = self.parts.partition_point(|p| p.first <= entry).checked_sub(1)?;
        let p = self.parts.get(part)?;
        Some((p, entry - p.first))
    }

    /// Starts loading the directory entry a lookup of `key` reads first.
    /// A lookup waits on memory three times (directory, keys, slots: each
    /// far larger than the cache); a search looks up a dozen or two keys,
    /// and starting each step for all of them before reading any lets the
    /// waits overlap.
    pub(crate) fn prefetch_entry(&self, key: u64) {
        if let Some(d) = self.locate(key).and_then(|(p, at)| p.dir.get(at)) {
            prefetch(d);
        }
    }

    /// Starts loading the distinct keys under `key`'s directory entry
    /// (reads the entry: after [`FrozenPostings::prefetch_entry`]).
    pub(crate) fn prefetch_keys(&self, key: u64) {
        if let Some(k) = self.locate(key).and_then(|(p, at)| p.keys.get(*p.dir.get(at)? as usize)) {
            prefetch(k);
        }
    }

    /// The slots under a key, in slot order (empty when none).
    pub(crate) fn get(&self, key: u64) -> &[u32] {
        let Some((p, at)) = self.locate(key) else {
            return &[];
        };
        let (Some(&lo), Some(&hi)) = (p.dir.get(at), p.dir.get(at + 1)) else {
            return &[];
        };
        let keys = p.keys.get(lo as usize..hi as usize).unwrap_or(&[]);
        let Some(i) = keys.iter().position(|k| k.key() == key) else {
            return &[];
        };
        let at = lo as usize + i;
        match (p.keys.get(at), p.keys.get(at + 1)) {
            (Some(a), Some(b)) => p.slots.get(a.number() as usize..b.number() as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

fn entry_of(key: u64, bits: u32) -> usize {
    usize::try_from(key.checked_shr(64 - bits).unwrap_or(0)).unwrap_or(0)
}

/// Postings a part sorts at once in its second pass, about: a few
/// hundred kilobytes, in the cache.
const SECOND_PASS: usize = 16_384;

impl Part {
    /// The part of the directory from entry `lo` to `hi`. Two counting
    /// sorts, both writing to few places at a time (a single one wrote
    /// each posting to a random place in a large array, a cache miss
    /// each): by coarse groups of entries, then each group by entry; then
    /// each entry's few postings by key and slot.
    ///
    /// `(bits, postings)`: the directory's bits, and the postings of all
    /// parts.
    fn build(runs: &[KeyRun], first_slot: usize, (bits, postings): (u32, usize), lo: usize, hi: usize) -> Self {
        let span = hi - lo;
        let mine = |k: u64| (lo..hi).contains(&entry_of(k, bits));
        // Coarse groups of 2^shift entries, each about SECOND_PASS postings.
        // Keys are hashes, spread evenly: the part's share of the postings
        // is near its share of the directory, which is enough to size the
        // groups (and saves a pass over every key to count them exactly;
        // the groups' sizes do not change what is built).
        let expected = postings.saturating_mul(span) >> bits;
        let groups_wanted = (expected / SECOND_PASS).max(1).next_power_of_two();
        let shift = (span.max(1).next_power_of_two() / groups_wanted).max(1).trailing_zeros();
        let group = |k: u64| (entry_of(k, bits) - lo) >> shift;
        let groups = (span >> shift) + 1;
        let mut bounds = vec![0usize; groups + 1];
        for (keys, _) in runs {
            for &k in keys {
                if mine(k)
                    && let Some(c) = bounds.get_mut(group(k) + 1)
                {
                    *c += 1;
                }
            }
        }
        for i in 1..bounds.len() {
            bounds[i] += bounds[i - 1];
        }
        let total = bounds.last().copied().unwrap_or(0);
        let mut coarse = vec![Keyed::default(); total];
        let mut next = bounds.clone();
        for (k, slot) in each_posting(runs, first_slot) {
            if mine(k)
                && let Some(n) = next.get_mut(group(k))
            {
                if let Some(p) = coarse.get_mut(*n) {
                    *p = Keyed::new(k, slot);
                }
                *n += 1;
            }
        }
        drop(next);
        // Second pass, group by group: postings by entry (stable, so slots
        // stay in order), then keys, starts and the directory.
        let mut out = Self { first: lo, ..Self::default() };
        out.slots.reserve(total);
        out.dir.reserve(span + 1);
        // At most one distinct key per posting: room never written costs
        // no memory, growing the list copies it.
        out.keys.reserve(total + 1);
        let mut sorted: Vec<(u64, u32)> = Vec::new();
        let mut count: Vec<usize> = Vec::new();
        for w in bounds.windows(2) {
            let part = coarse.get(w[0]..w[1]).unwrap_or(&[]);
            let first_entry = out.dir.len();
            let entries = (1usize << shift).min(span - first_entry.min(span));
            count.clear();
            count.resize(entries + 1, 0);
            for posting in part {
                if let Some(c) = count.get_mut(entry_of(posting.key(), bits) - lo - first_entry + 1) {
                    *c += 1;
                }
            }
            for i in 1..count.len() {
                count[i] += count[i - 1];
            }
            sorted.clear();
            sorted.resize(part.len(), (0, 0));
            let mut next = count.clone();
            for posting in part {
                let k = posting.key();
                if let Some(n) = next.get_mut(entry_of(k, bits) - lo - first_entry) {
                    if let Some(p) = sorted.get_mut(*n) {
                        *p = (k, posting.number());
                    }
                    *n += 1;
                }
            }
            for c in count.windows(2) {
                out.dir.push(u32::try_from(out.keys.len()).unwrap_or(u32::MAX));
                let entry = sorted.get_mut(c[0]..c[1]).unwrap_or(&mut []);
                // Stable: a key's slots keep their order.
                entry.sort_by_key(|&(k, _)| k);
                for &(k, s) in &*entry {
                    if out.keys.last().map(|e| e.key()) != Some(k) {
                        out.keys.push(Keyed::new(k, u32::try_from(out.slots.len()).unwrap_or(u32::MAX)));
                    }
                    out.slots.push(s);
                }
            }
        }
        while out.dir.len() < span {
            out.dir.push(u32::try_from(out.keys.len()).unwrap_or(u32::MAX));
        }
        out.dir.push(u32::try_from(out.keys.len()).unwrap_or(u32::MAX));
        // The end of the last key's slots; no directory entry reaches it.
        out.keys.push(Keyed::new(0, u32::try_from(out.slots.len()).unwrap_or(u32::MAX)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Runs of records with keys drawn from a small set, so keys repeat
    /// within a record's run and across runs.
    fn runs(records: usize, per_run: usize, seed: u64) -> Vec<KeyRun> {
        let mut rng = crate::rng::Rng::new(seed);
        let vocabulary: Vec<u64> = (0..records as u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed).collect();
        let mut out = Vec::new();
        let mut done = 0;
        while done < records {
            let n = per_run.min(records - done);
            let (mut keys, mut ends) = (Vec::new(), Vec::new());
            for _ in 0..n {
                let mut own: Vec<u64> = (0..rng.below(6)).map(|_| vocabulary[rng.below(vocabulary.len())]).collect();
                own.sort_unstable();
                own.dedup();
                keys.extend(own);
                ends.push(u32::try_from(keys.len()).unwrap_or(u32::MAX));
            }
            out.push((keys, ends));
            done += n;
        }
        out
    }

    fn expected(runs: &[KeyRun], first_slot: u32) -> BTreeMap<u64, Vec<u32>> {
        let mut map: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        let mut slot = first_slot;
        for (keys, ends) in runs {
            let mut start = 0;
            for &end in ends {
                for &k in &keys[start..end as usize] {
                    map.entry(k).or_default().push(slot);
                }
                start = end as usize;
                slot += 1;
            }
        }
        map
    }

    #[test]
    fn every_key_finds_its_slots_in_order_whatever_the_threads() {
        for (records, per_run, first) in [(0, 10, 0), (1, 10, 5), (5_000, 700, 0), (20_000, 20_000, 123)] {
            let runs = runs(records, per_run, records as u64 + 1);
            let want = expected(&runs, first);
            for threads in [1, 2, 3, 8] {
                let frozen = FrozenPostings::build(&runs, first as usize, threads);
                for (k, slots) in &want {
                    assert_eq!(frozen.get(*k), slots.as_slice(), "{records} records, {threads} threads");
                }
                for absent in [0, 1, u64::MAX, 0x8000_0000_0000_0000] {
                    if !want.contains_key(&absent) {
                        assert!(frozen.get(absent).is_empty());
                    }
                }
            }
        }
        assert!(FrozenPostings::default().get(7).is_empty());
    }
}
