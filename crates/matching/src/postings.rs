//! The postings of a bulk load, frozen: every (blocking key, slot) of a
//! batch's registry in two flat arrays sorted by key, with a directory on
//! the key's top bits. A hash map of growable lists, filled one posting at
//! a time, spent most of its time on cache misses and small allocations
//! (7.6 million postings under 2.9 million keys at 500,000 records); here
//! each core sorts the keys of its own range of the directory, with no
//! allocation per key. Records added later go to the index's hash maps.
//!
//! Keys are hashes, spread evenly, so a directory with about one entry per
//! distinct key leaves a handful of postings per entry. The postings come
//! grouped by the key's top bits ([`GroupedRun`]) from the cores that made
//! the keys, while each run's keys are in their cache: the build then
//! reads each group once, from every run, and sorts it by entry. (Reading
//! every run's keys to count them by group, then to scatter them, was two
//! thirds of the build, and as much fresh memory again as the postings.)

use rayon::prelude::*;

use crate::record::prefetch;

/// The postings of a run of records (a few thousand), grouped by the
/// key's top [`group_bits`] bits: by group, and in slot order within a
/// group.
#[derive(Debug, Default)]
pub(crate) struct GroupedRun {
    postings: Vec<Keyed>,
    /// Per group, and one past the last: where its postings start.
    starts: Vec<u32>,
}

/// Postings per record a bulk load expects, to size its groups before any
/// key is made (a record of the synthetic sets has about fifteen; a wrong
/// guess only makes the groups larger or smaller).
const POSTINGS_PER_RECORD: usize = 16;

/// The bits of a bulk load's groups: about [`SECOND_PASS`] postings each,
/// up to [`MAX_GROUP_BITS`].
pub(crate) fn group_bits(records: usize) -> u32 {
    let groups = (records.saturating_mul(POSTINGS_PER_RECORD) / SECOND_PASS).max(1).next_power_of_two();
    groups.trailing_zeros().min(MAX_GROUP_BITS)
}

/// Every run keeps where each group starts (four bytes per group): past
/// 4,096 groups (a registry of four million), groups grow instead, so
/// that this stays a sliver of the postings themselves.
const MAX_GROUP_BITS: u32 = 12;

impl GroupedRun {
    /// Groups postings (key, slot) given in slot order: a counting sort by
    /// group, which keeps that order within each group.
    pub(crate) fn new(postings: &[(u64, u32)], group_bits: u32) -> Self {
        let (mut starts, mut grouped) = (Vec::new(), Vec::new());
        let group = |k: u64| entry_of(k, group_bits);
        counting_sort(|| postings.iter().copied(), 1 << group_bits, group, Keyed::new, (&mut starts, &mut grouped));
        let starts = starts.into_iter().map(|s| u32::try_from(s).unwrap_or(u32::MAX)).collect();
        Self { postings: grouped, starts }
    }

    /// The postings of group `g`.
    fn group(&self, g: usize) -> &[Keyed] {
        match (self.starts.get(g), self.starts.get(g + 1)) {
            (Some(&a), Some(&b)) => self.postings.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// Every posting (key, slot): by group, each key's slots in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.postings.iter().map(|p| (p.key(), p.number()))
    }
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
    /// Builds the postings from runs of records' postings, grouped with
    /// `group_bits` ([`group_bits`]), the runs in slot order.
    pub(crate) fn build(runs: &[GroupedRun], group_bits: u32, threads: usize) -> Self {
        let postings: usize = runs.iter().map(|r| r.postings.len()).sum();
        // About one directory entry per two postings (a key has two or
        // three on average), at least one per group.
        let bits = (usize::BITS - (postings / 2).max(1).leading_zeros()).max(group_bits);
        let groups = 1usize << group_bits;
        let threads = threads.clamp(1, groups);
        let per_part = groups.div_ceil(threads);
        let ranges: Vec<(usize, usize)> =
            (0..threads).map(|t| (t * per_part, ((t + 1) * per_part).min(groups))).filter(|(a, b)| a < b).collect();
        let build = |&(lo, hi): &(usize, usize)| Part::build(runs, (bits, group_bits), lo, hi);
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

/// Postings in a group, about: a few hundred kilobytes, in the cache
/// while the group is sorted.
const SECOND_PASS: usize = 16_384;

impl Part {
    /// The part of the directory that groups `lo` to `hi` cover: each
    /// group's postings, read from every run (in slot order), sorted by
    /// entry with a counting sort, then each entry's few postings by key
    /// (stable: a key's slots keep their order).
    ///
    /// `(bits, group_bits)`: the directory's bits and the groups'.
    fn build(runs: &[GroupedRun], (bits, group_bits): (u32, u32), lo: usize, hi: usize) -> Self {
        let shift = bits - group_bits;
        let entries = 1usize << shift;
        let mut out = Self { first: lo << shift, ..Self::default() };
        let total: usize = (lo..hi).map(|g| runs.iter().map(|r| r.group(g).len()).sum::<usize>()).sum();
        out.slots.reserve(total);
        out.dir.reserve(((hi - lo) << shift) + 1);
        // At most one distinct key per posting: room never written costs
        // no memory, growing the list copies it.
        out.keys.reserve(total + 1);
        let (mut count, mut sorted) = (Vec::new(), Vec::new());
        for g in lo..hi {
            let first_entry = g << shift;
            let group = || runs.iter().flat_map(|r| r.group(g)).map(|p| (p.key(), p.number()));
            let entry = |k: u64| entry_of(k, bits) - first_entry;
            counting_sort(group, entries, entry, |k, s| (k, s), (&mut count, &mut sorted));
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
        out.dir.push(u32::try_from(out.keys.len()).unwrap_or(u32::MAX));
        // The end of the last key's slots; no directory entry reaches it.
        out.keys.push(Keyed::new(0, u32::try_from(out.slots.len()).unwrap_or(u32::MAX)));
        out
    }
}

/// A stable counting sort of postings into `buckets` buckets (`bucket`
/// of a key, below `buckets`; others are left out): `out` gets them bucket
/// by bucket, in their order within each, made by `make`, and `starts`
/// where each bucket starts and, last, where the last one ends. `postings`
/// is walked twice, to count and to place.
fn counting_sort<T: Copy + Default, I: Iterator<Item = (u64, u32)>>(
    postings: impl Fn() -> I,
    buckets: usize,
    bucket: impl Fn(u64) -> usize,
    make: impl Fn(u64, u32) -> T,
    (starts, out): (&mut Vec<usize>, &mut Vec<T>),
) {
    starts.clear();
    starts.resize(buckets + 1, 0);
    for (k, _) in postings() {
        if let Some(c) = starts.get_mut(bucket(k) + 1) {
            *c += 1;
        }
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    out.clear();
    out.resize(starts.last().copied().unwrap_or(0), T::default());
    let mut next = starts.clone();
    for (k, slot) in postings() {
        let b = bucket(k);
        if let Some(n) = next.get_mut(b).filter(|_| b < buckets) {
            if let Some(p) = out.get_mut(*n) {
                *p = make(k, slot);
            }
            *n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Records' keys drawn from a small set, so keys repeat across
    /// records, in runs of `per_run` records from slot `first`.
    fn records(records: usize, seed: u64) -> Vec<Vec<u64>> {
        let mut rng = crate::rng::Rng::new(seed);
        let vocabulary: Vec<u64> = (0..records as u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed).collect();
        (0..records)
            .map(|_| {
                let mut own: Vec<u64> = (0..rng.below(6)).map(|_| vocabulary[rng.below(vocabulary.len())]).collect();
                own.sort_unstable();
                own.dedup();
                own
            })
            .collect()
    }

    fn runs(keys: &[Vec<u64>], per_run: usize, first: u32, group_bits: u32) -> Vec<GroupedRun> {
        keys.chunks(per_run)
            .enumerate()
            .map(|(r, run)| {
                let postings: Vec<(u64, u32)> = run
                    .iter()
                    .enumerate()
                    .flat_map(|(i, own)| {
                        let slot = first + u32::try_from(r * per_run + i).unwrap();
                        own.iter().map(move |&k| (k, slot))
                    })
                    .collect();
                GroupedRun::new(&postings, group_bits)
            })
            .collect()
    }

    fn expected(keys: &[Vec<u64>], first: u32) -> BTreeMap<u64, Vec<u32>> {
        let mut map: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for (i, own) in keys.iter().enumerate() {
            for &k in own {
                map.entry(k).or_default().push(first + u32::try_from(i).unwrap());
            }
        }
        map
    }

    #[test]
    fn every_key_finds_its_slots_in_order_whatever_the_threads() {
        for (n, per_run, first) in [(0, 10, 0), (1, 10, 5), (5_000, 700, 0), (20_000, 20_000, 123), (40_000, 4_096, 7)]
        {
            let keys = records(n, n as u64 + 1);
            let want = expected(&keys, first);
            for group_bits in [0, 3, group_bits(n)] {
                let runs = runs(&keys, per_run, first, group_bits);
                let every: usize = runs.iter().map(|r| r.iter().count()).sum();
                assert_eq!(every, want.values().map(Vec::len).sum::<usize>());
                for threads in [1, 2, 3, 8] {
                    let frozen = FrozenPostings::build(&runs, group_bits, threads);
                    for (k, slots) in &want {
                        assert_eq!(
                            frozen.get(*k),
                            slots.as_slice(),
                            "{n} records, {group_bits} bits, {threads} threads"
                        );
                    }
                    for absent in [0, 1, u64::MAX, 0x8000_0000_0000_0000] {
                        if !want.contains_key(&absent) {
                            assert!(frozen.get(absent).is_empty());
                        }
                    }
                }
            }
        }
        assert!(FrozenPostings::default().get(7).is_empty());
    }

    #[test]
    fn groups_are_sized_from_the_records() {
        assert_eq!(group_bits(0), 0);
        assert_eq!(group_bits(1_000), 0);
        // 500,000 records: about eight million postings, 512 groups.
        assert_eq!(group_bits(500_000), 9);
        assert_eq!(group_bits(1_000_000), 10);
        assert_eq!(group_bits(100_000_000), MAX_GROUP_BITS);
    }
}
