//! A Merkle tree kept as a flat sequence of stored hashes, in the layout of
//! Go's `golang.org/x/mod/sumdb/tlog` (after Crosby and Wallach, "Efficient
//! Data Structures for Tamper-Evident Logging", section 3.3).
//!
//! Appending leaf `n` stores its leaf hash followed by the hash of every
//! complete subtree that this leaf closes: `1 + trailing_ones(n)` hashes, just
//! under two per leaf on average. Stored hashes never change once written, so a
//! backend only ever appends. The root, inclusion proofs and consistency proofs
//! of any tree size up to the current one then need only O(log n) stored
//! hashes, fetched in one [`HashReader::read_hashes`] call.
//!
//! Proofs are the RFC 9162 (and RFC 6962) audit paths and consistency proofs;
//! [`crate::verify`] checks them.

use crate::hash::{Hash, empty_root, node_hash, split_point};

/// Reads stored hashes by their stored-hash index (see [`stored_hash_index`]).
///
/// A database backend implements this, typically with one batched `SELECT`;
/// every function in this module makes at most one call per operation.
pub trait HashReader {
    /// The backend's error.
    type Error;

    /// Returns the hashes at `indexes`, in the same order and of the same
    /// length. Indexes are sorted ascending by every caller in this crate.
    ///
    /// # Errors
    /// Whatever the backend fails with; a missing index must be an error.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    type Error = R::Error;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        (**self).read_hashes(indexes)
    }
}

/// Why a tree operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    /// The sizes or index asked for do not describe a valid request.
    #[error("invalid tree request: {0}")]
    InvalidArgument(&'static str),
    /// The reader broke its contract by returning the wrong number of hashes.
    #[error("hash reader returned {got} hashes for {wanted} indexes")]
    WrongHashCount {
        /// Number of indexes asked for.
        wanted: usize,
        /// Number of hashes returned.
        got: usize,
    },
    /// The reader failed.
    #[error("reading stored hashes failed")]
    Reader(#[source] E),
}

/// Maps tree coordinates to the position of that hash in storage: the `n`th
/// hash at `level` (level 0 = leaves; the node covering leaves
/// `[n * 2^level, (n+1) * 2^level)`).
#[must_use]
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // Level L's nth hash is written right after level L+1's (2n+1)th hash, so
    // walk down to the level-0 ordering and add the level back at the end.
    let mut n = n;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    // Level 0's nth hash is written at n + n/2 + n/4 + ...
    let mut i = 0;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + u64::from(level)
}

/// Inverse of [`stored_hash_index`]: returns `(level, n)`.
#[must_use]
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // stored_hash_index(0, n) < 2n, so the record that wrote `index` is in
    // [index/2, index/2 + log2(index)].
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    debug_assert!(index_n <= index, "bad stored hash index math");
    loop {
        // Record n+1 starts after record n's 1 + trailing_ones(n) hashes.
        let next = index_n + 1 + u64::from((n + 1).trailing_zeros());
        if next > index {
            break;
        }
        n += 1;
        index_n = next;
    }
    // `index - index_n` is at most 63, the level of a hash written by record n.
    let level = u32::try_from(index - index_n).unwrap_or(u32::MAX);
    (level, n >> level)
}

/// Number of stored hashes in a tree of `n` leaves.
#[must_use]
pub fn stored_hash_count(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    stored_hash_index(0, n - 1) + 1 + u64::from((n - 1).trailing_ones())
}

fn read<R: HashReader>(reader: &R, indexes: &[u64]) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes).map_err(TreeError::Reader)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::WrongHashCount { wanted: indexes.len(), got: hashes.len() });
    }
    Ok(hashes)
}

/// The hashes to append to storage when adding leaf number `n` (0-based) with
/// `leaf_hash`; they go at `stored_hash_index(0, n)` onwards, in order.
///
/// Reads up to `log2(n)` earlier hashes (the left siblings of the subtrees this
/// leaf completes), so the reader must see every hash stored for leaves `< n`.
///
/// # Errors
/// [`TreeError::Reader`] or [`TreeError::WrongHashCount`] from the reader.
pub fn stored_hashes_for_record<R: HashReader>(
    n: u64,
    leaf_hash: Hash,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    // Each trailing 1 bit of n completes a subtree, whose left half is an
    // already stored hash. Indexes are listed in ascending order.
    let m = (n + 1).trailing_zeros();
    let indexes: Vec<u64> = (0..m).rev().map(|level| stored_hash_index(level, (n >> level) - 1)).collect();
    let old = read(reader, &indexes)?;
    let mut hashes = Vec::with_capacity(old.len() + 1);
    let mut h = leaf_hash;
    hashes.push(h);
    for left in old.iter().rev() {
        h = node_hash(left, &h);
        hashes.push(h);
    }
    Ok(hashes)
}

/// Like [`stored_hashes_for_record`] for a batch of consecutive leaves
/// `first, first + 1, ...`: returns all their stored hashes concatenated,
/// to append at `stored_hash_index(0, first)`.
///
/// Hashes produced earlier in the batch are served from memory, so the backend
/// only needs to see what was stored before `first`. This lets a database
/// append a whole batch in one transaction.
///
/// # Errors
/// As [`stored_hashes_for_record`].
pub fn stored_hashes_for_records<R: HashReader>(
    first: u64,
    leaf_hashes: &[Hash],
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    let overlay =
        Overlay { base: stored_hash_index(0, first), pending: std::cell::RefCell::new(Vec::new()), backing: reader };
    for (n, leaf) in (first..).zip(leaf_hashes) {
        let new = stored_hashes_for_record(n, *leaf, &overlay).map_err(|e| match e {
            TreeError::Reader(inner) => inner,
            TreeError::InvalidArgument(why) => TreeError::InvalidArgument(why),
            TreeError::WrongHashCount { wanted, got } => TreeError::WrongHashCount { wanted, got },
        })?;
        overlay.pending.borrow_mut().extend(new);
    }
    Ok(overlay.pending.into_inner())
}

/// Serves indexes at or after `base` from hashes computed in this batch and
/// the rest from the backing reader.
struct Overlay<'a, R> {
    base: u64,
    // A RefCell because `HashReader::read_hashes` takes `&self` while the batch
    // grows between calls; it is never borrowed across a call.
    pending: std::cell::RefCell<Vec<Hash>>,
    backing: &'a R,
}

impl<R: HashReader> HashReader for Overlay<'_, R> {
    type Error = TreeError<R::Error>;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        let old: Vec<u64> = indexes.iter().copied().filter(|&i| i < self.base).collect();
        let mut from_backing = read(self.backing, &old)?.into_iter();
        let pending = self.pending.borrow();
        indexes
            .iter()
            .map(|&i| {
                if i < self.base {
                    from_backing.next()
                } else {
                    usize::try_from(i - self.base).ok().and_then(|j| pending.get(j).copied())
                }
                .ok_or(TreeError::InvalidArgument("batch read past its own hashes"))
            })
            .collect()
    }
}

/// Appends to `need` the stored indexes of the complete subtrees that make up
/// leaves `[lo, hi)`, largest (leftmost) first.
pub(crate) fn sub_tree_index(mut lo: u64, hi: u64, need: &mut Vec<u64>) {
    while lo < hi {
        // Largest power of two not above hi - lo; lo is always a multiple of
        // it because we walk the RFC 9162 decomposition left to right.
        let k = 1u64 << (63 - (hi - lo).leading_zeros());
        let level = k.trailing_zeros();
        debug_assert!(lo & (k - 1) == 0, "bad math in sub_tree_index");
        need.push(stored_hash_index(level, lo >> level));
        lo += k;
    }
}

/// Computes the hash of leaves `[lo, hi)` from the front of `hashes`, which
/// holds what [`sub_tree_index`] asked for; returns the unused rest.
fn sub_tree_hash(mut lo: u64, hi: u64, hashes: &[Hash]) -> (Hash, &[Hash]) {
    let mut count = 0;
    while lo < hi {
        lo += 1u64 << (63 - (hi - lo).leading_zeros());
        count += 1;
    }
    let (mine, rest) = hashes.split_at(count);
    // The rightmost subtree is the smallest; fold leftwards.
    let mut iter = mine.iter().rev();
    let mut h = iter.next().copied().unwrap_or_else(empty_root);
    for left in iter {
        h = node_hash(left, &h);
    }
    (h, rest)
}

/// The root hash of the tree of the first `n` leaves.
///
/// # Errors
/// [`TreeError::Reader`] or [`TreeError::WrongHashCount`] from the reader.
pub fn tree_hash<R: HashReader>(n: u64, reader: &R) -> Result<Hash, TreeError<R::Error>> {
    if n == 0 {
        return Ok(empty_root());
    }
    let mut indexes = Vec::new();
    sub_tree_index(0, n, &mut indexes);
    let hashes = read(reader, &indexes)?;
    Ok(sub_tree_hash(0, n, &hashes).0)
}

fn leaf_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if lo + 1 == hi {
        return;
    }
    let k = split_point(hi - lo);
    if n < lo + k {
        leaf_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        leaf_proof_index(lo + k, hi, n, need);
    }
}

/// RFC 9162 `PATH(n, D[lo:hi])`, built from the hashes [`leaf_proof_index`]
/// asked for. The sibling nearest the leaf comes first.
fn leaf_proof<'h>(lo: u64, hi: u64, n: u64, hashes: &'h [Hash], out: &mut Vec<Hash>) -> &'h [Hash] {
    if lo + 1 == hi {
        return hashes;
    }
    let k = split_point(hi - lo);
    let (sibling, rest) = if n < lo + k {
        let rest = leaf_proof(lo, lo + k, n, hashes, out);
        sub_tree_hash(lo + k, hi, rest)
    } else {
        let (sibling, rest) = sub_tree_hash(lo, lo + k, hashes);
        (sibling, leaf_proof(lo + k, hi, n, rest, out))
    };
    out.push(sibling);
    rest
}

/// The RFC 9162 inclusion proof (audit path) of leaf `index` in the tree of
/// the first `tree_size` leaves.
///
/// # Errors
/// [`TreeError::InvalidArgument`] if `index >= tree_size`; reader errors.
pub fn inclusion_proof<R: HashReader>(
    index: u64,
    tree_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if index >= tree_size {
        return Err(TreeError::InvalidArgument("leaf index not below tree size"));
    }
    let mut indexes = Vec::new();
    leaf_proof_index(0, tree_size, index, &mut indexes);
    let hashes = read(reader, &indexes)?;
    let mut proof = Vec::with_capacity(indexes.len());
    let rest = leaf_proof(0, tree_size, index, &hashes, &mut proof);
    debug_assert!(rest.is_empty(), "bad index math in inclusion_proof");
    Ok(proof)
}

fn tree_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if n == hi {
        // The verifier knows the old root, so the whole old tree is omitted.
        if lo != 0 {
            sub_tree_index(lo, hi, need);
        }
        return;
    }
    let k = split_point(hi - lo);
    if n <= lo + k {
        tree_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        tree_proof_index(lo + k, hi, n, need);
    }
}

/// RFC 9162 `SUBPROOF(n, D[lo:hi], lo == 0)`, from the hashes that
/// [`tree_proof_index`] asked for.
fn tree_proof<'h>(lo: u64, hi: u64, n: u64, hashes: &'h [Hash], out: &mut Vec<Hash>) -> &'h [Hash] {
    if n == hi {
        if lo == 0 {
            return hashes;
        }
        let (h, rest) = sub_tree_hash(lo, hi, hashes);
        out.push(h);
        return rest;
    }
    let k = split_point(hi - lo);
    let (h, rest) = if n <= lo + k {
        let rest = tree_proof(lo, lo + k, n, hashes, out);
        sub_tree_hash(lo + k, hi, rest)
    } else {
        let (h, rest) = sub_tree_hash(lo, lo + k, hashes);
        (h, tree_proof(lo + k, hi, n, rest, out))
    };
    out.push(h);
    rest
}

/// The RFC 9162 consistency proof that the tree of `new_size` leaves extends
/// the tree of `old_size` leaves.
///
/// The proof is empty when `old_size` is 0 or equal to `new_size`, the two
/// cases RFC 9162 leaves to the caller (see [`crate::verify::verify_consistency`]).
///
/// # Errors
/// [`TreeError::InvalidArgument`] if `old_size > new_size`; reader errors.
pub fn consistency_proof<R: HashReader>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if old_size > new_size {
        return Err(TreeError::InvalidArgument("old size above new size"));
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut indexes = Vec::new();
    tree_proof_index(0, new_size, old_size, &mut indexes);
    let hashes = read(reader, &indexes)?;
    let mut proof = Vec::with_capacity(indexes.len());
    let rest = tree_proof(0, new_size, old_size, &hashes, &mut proof);
    debug_assert!(rest.is_empty(), "bad index math in consistency_proof");
    Ok(proof)
}

/// An in-memory stored-hash log, for tests and small tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    hashes: Vec<Hash>,
    size: u64,
}

/// [`MemoryStore`] was asked for a hash it does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no stored hash at index {0}")]
pub struct MissingHash(pub u64);

impl MemoryStore {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// All stored hashes, in storage order.
    #[must_use]
    pub fn stored(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf by its leaf hash; returns its index.
    ///
    /// # Errors
    /// Only if the store is internally inconsistent, which would be a bug.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<u64, TreeError<MissingHash>> {
        let n = self.size;
        let new = stored_hashes_for_record(n, leaf_hash, &*self)?;
        self.hashes.extend(new);
        self.size += 1;
        Ok(n)
    }

    /// Appends a batch of leaves through [`stored_hashes_for_records`].
    ///
    /// # Errors
    /// Only if the store is internally inconsistent, which would be a bug.
    pub fn append_batch(&mut self, leaf_hashes: &[Hash]) -> Result<(), TreeError<MissingHash>> {
        let new = stored_hashes_for_records(self.size, leaf_hashes, &*self)?;
        self.hashes.extend(new);
        self.size += leaf_hashes.len() as u64;
        Ok(())
    }
}

impl HashReader for MemoryStore {
    type Error = MissingHash;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MissingHash> {
        indexes
            .iter()
            .map(|&i| usize::try_from(i).ok().and_then(|j| self.hashes.get(j).copied()).ok_or(MissingHash(i)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hash_index_matches_go_layout() {
        // Leaves 0..4 write: L0#0 | L0#1 L1#0 | L0#2 | L0#3 L1#1 L2#0
        let expected = [(0, 0, 0), (0, 1, 1), (1, 0, 2), (0, 2, 3), (0, 3, 4), (1, 1, 5), (2, 0, 6)];
        for (level, n, index) in expected {
            assert_eq!(stored_hash_index(level, n), index, "({level},{n})");
            assert_eq!(split_stored_hash_index(index), (level, n));
        }
    }

    #[test]
    fn split_is_inverse_over_a_range() {
        for index in 0..5000 {
            let (level, n) = split_stored_hash_index(index);
            assert_eq!(stored_hash_index(level, n), index);
        }
    }

    #[test]
    fn stored_hash_count_matches_appends() {
        let mut store = MemoryStore::new();
        for i in 0..300u64 {
            assert_eq!(store.stored().len() as u64, stored_hash_count(i));
            store.append(crate::hash::leaf_hash(&i.to_be_bytes())).unwrap();
        }
    }

    #[test]
    fn short_reader_is_an_error() {
        struct Short;
        impl HashReader for Short {
            type Error = MissingHash;
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, MissingHash> {
                Ok(Vec::new())
            }
        }
        assert!(matches!(tree_hash(3, &Short), Err(TreeError::WrongHashCount { wanted: 2, got: 0 })));
    }
}

/// A [`HashReader`] over the hashes fetched so far, noting the ones it
/// lacked, for storage that can only be read asynchronously (a database):
/// run the computation; on [`TreeError::Reader`] fetch
/// [`take_missing`](Self::take_missing) with [`add`](Self::add) and run it
/// again. Tree computations read O(log n) hashes, so this ends in a round or two.
#[derive(Debug, Default)]
pub struct PrefetchedHashes {
    known: std::collections::HashMap<u64, Hash>,
    missing: std::cell::RefCell<Vec<u64>>,
}

/// Some stored hashes have not been fetched yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stored hashes not fetched yet")]
pub struct NotFetched;

impl PrefetchedHashes {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The indexes asked for and not known, sorted and without repeats; forgets them.
    pub fn take_missing(&self) -> Vec<u64> {
        let mut v = self.missing.take();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Records fetched hashes.
    pub fn add(&mut self, hashes: impl IntoIterator<Item = (u64, Hash)>) {
        self.known.extend(hashes);
    }
}

impl HashReader for PrefetchedHashes {
    type Error = NotFetched;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, NotFetched> {
        let lacking: Vec<u64> = indexes.iter().copied().filter(|i| !self.known.contains_key(i)).collect();
        if !lacking.is_empty() {
            self.missing.borrow_mut().extend(lacking);
            return Err(NotFetched);
        }
        Ok(indexes.iter().map(|i| self.known[i]).collect())
    }
}
