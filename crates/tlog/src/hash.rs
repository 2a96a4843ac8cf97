//! RFC 9162 section 2.1 hashing: leaf, node and empty-tree hashes, and the
//! Merkle Tree Hash over a list of leaf hashes held in memory.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};

/// Size of a SHA-256 hash in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
///
/// A newtype rather than a bare `[u8; 32]` so that a commitment, a key or a
/// salt cannot be passed where a tree hash is expected by accident.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

impl Hash {
    /// The raw 32 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }

    /// Builds a hash from a slice, which must be exactly 32 bytes long.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; HASH_SIZE]>::try_from(bytes).ok().map(Self)
    }

    /// Lowercase hexadecimal form.
    #[must_use]
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// Parses 64 hexadecimal digits (either case).
    #[must_use]
    pub fn from_hex(s: &str) -> Option<Self> {
        crate::hex::decode(s).and_then(|v| Self::from_slice(&v))
    }

    /// Standard padded base64, the form used in checkpoints.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses standard padded base64 of exactly 32 bytes.
    #[must_use]
    pub fn from_base64(s: &str) -> Option<Self> {
        STANDARD.decode(s).ok().and_then(|v| Self::from_slice(&v))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<[u8; HASH_SIZE]> for Hash {
    fn from(bytes: [u8; HASH_SIZE]) -> Self {
        Self(bytes)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `SHA-256(0x00 || data)`: the hash of a leaf (RFC 9162 section 2.1.1).
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// `SHA-256("")`: the root of the empty tree (RFC 9162 section 2.1.1).
///
/// Go's sumdb `tlog` uses an all-zero hash for the empty tree; we follow the
/// RFC so that a size-0 checkpoint is checkable by any RFC 9162 client.
#[must_use]
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): the split
/// point `k` of RFC 9162 section 2.1.1.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2, "split_point needs n >= 2");
    1 << (63 - (n - 1).leading_zeros())
}

/// The Merkle Tree Hash of a list of leaf hashes, computed in memory.
///
/// This is the direct recursive definition of RFC 9162 section 2.1.1. It reads
/// every leaf, so it is meant for full audits (`verify` recomputing the log)
/// and as a test oracle; the stored-hash functions in [`crate::tree`] are the
/// O(log n) path.
#[must_use]
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            // `leaves.len()` fits in u64 on every supported platform, and the
            // split is below the length, so it fits back into usize.
            let k = split_point(leaves.len() as u64) as usize;
            node_hash(&root_from_leaf_hashes(&leaves[..k]), &root_from_leaf_hashes(&leaves[k..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(empty_root().to_hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(root_from_leaf_hashes(&[]), empty_root());
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        let cases = [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1 << 40, 1 << 39)];
        for (n, k) in cases {
            assert_eq!(split_point(n), k, "n={n}");
        }
    }

    #[test]
    fn base64_and_hex_round_trip() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_base64("AAAA"), None);
        assert_eq!(Hash::from_hex("00"), None);
    }
}
