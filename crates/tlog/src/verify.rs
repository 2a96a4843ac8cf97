//! Pure proof verifiers, written step by step after RFC 9162 sections
//! 2.1.3.2 (inclusion) and 2.1.4.2 (consistency). They need nothing but the
//! proof, the sizes and the hashes, so a witness or an auditor can run them
//! without any access to the log's storage.

use crate::hash::{Hash, empty_root, node_hash};

/// Why a proof did not verify. Deliberately coarse: a verifier that explains
/// which step failed helps nobody but a forger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The sizes or index cannot describe a valid proof.
    #[error("invalid proof parameters")]
    InvalidParameters,
    /// The proof has the wrong length or leads to a different root.
    #[error("proof does not verify")]
    Mismatch,
}

/// Right-shifts `fn_` and `sn` together until `fn_` is odd or zero.
fn shift_until_odd_or_zero(fn_: &mut u64, sn: &mut u64) {
    while *fn_ != 0 && *fn_ & 1 == 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Recomputes the root implied by an inclusion proof (RFC 9162 2.1.3.2).
///
/// # Errors
/// [`ProofError`] if `index >= tree_size` or the proof has the wrong length.
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    // Step 1.
    if index >= tree_size {
        return Err(ProofError::InvalidParameters);
    }
    // Steps 2 and 3.
    let mut fn_ = index;
    let mut sn = tree_size - 1;
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        if sn == 0 {
            return Err(ProofError::Mismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5, first half: the proof must have used up the whole path.
    if sn != 0 {
        return Err(ProofError::Mismatch);
    }
    Ok(r)
}

/// Verifies that `proof` shows the leaf with `leaf_hash` at `index` in the tree
/// of `tree_size` leaves whose root is `root` (RFC 9162 section 2.1.3.2).
///
/// # Errors
/// [`ProofError`] if it does not.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let r = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)?;
    if r == *root { Ok(()) } else { Err(ProofError::Mismatch) }
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the
/// tree of `old_size` leaves with root `old_root` (RFC 9162 section 2.1.4.2).
///
/// RFC 9162 defines the algorithm for `0 < old_size < new_size`. The edge
/// cases follow the common practice of transparency-dev/merkle, slightly
/// stricter: equal sizes need equal roots and an empty proof; an empty old
/// tree needs the empty-tree root and an empty proof.
///
/// # Errors
/// [`ProofError`] if it does not verify.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::InvalidParameters);
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root { Ok(()) } else { Err(ProofError::Mismatch) };
    }
    if old_size == 0 {
        return if proof.is_empty() && *old_root == empty_root() { Ok(()) } else { Err(ProofError::Mismatch) };
    }
    // Step 1.
    if proof.is_empty() {
        return Err(ProofError::Mismatch);
    }
    // Step 2: when the old tree is a complete subtree, its root is the first
    // node of the path and is not sent.
    let mut path = proof.iter();
    let first = if old_size.is_power_of_two() { old_root } else { path.next().ok_or(ProofError::Mismatch)? };
    // Steps 3 and 4.
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let mut fr = *first;
    let mut sr = *first;
    // Step 6.
    for c in path {
        if sn == 0 {
            return Err(ProofError::Mismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                shift_until_odd_or_zero(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if fr == *old_root && sr == *new_root && sn == 0 { Ok(()) } else { Err(ProofError::Mismatch) }
}
