//! Property tests over random trees, and a cross-check against the `ct-merkle`
//! crate (an independent in-memory RFC 6962 implementation).

use std::cell::Cell;

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use homeward_tlog::{
    Hash, HashReader, MemoryStore, consistency_proof, inclusion_proof, leaf_hash, root_from_leaf_hashes,
    stored_hash_count, tree_hash, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;
use sha2::Sha256;

/// Distinct leaves: the index is part of each, so no two leaf hashes collide
/// and a proof for one position can never honestly verify for another.
fn leaves_strategy(max: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..=max).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, mut bytes)| {
                bytes.extend_from_slice(&(i as u64).to_be_bytes());
                bytes
            })
            .collect()
    })
}

fn build(leaves: &[Vec<u8>]) -> (MemoryStore, Vec<Hash>) {
    let mut store = MemoryStore::new();
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    for h in &hashes {
        store.append(*h).unwrap();
    }
    (store, hashes)
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out.0[(bit / 8) % 32] ^= 1 << (bit % 8);
    out
}

/// Counts how many hashes each operation reads, to check the O(log n) claim.
struct Counting<'a> {
    inner: &'a MemoryStore,
    calls: Cell<usize>,
    read: Cell<usize>,
}

impl HashReader for Counting<'_> {
    type Error = <MemoryStore as HashReader>::Error;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        assert!(indexes.is_sorted(), "indexes should be ascending: {indexes:?}");
        self.calls.set(self.calls.get() + 1);
        self.read.set(self.read.get() + indexes.len());
        self.inner.read_hashes(indexes)
    }
}

fn log2_ceil(n: u64) -> usize {
    (64 - n.saturating_sub(1).leading_zeros()) as usize
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_inclusion_proof_verifies_and_tampering_fails(
        leaves in leaves_strategy(300),
        bit in 0usize..256,
    ) {
        let (store, hashes) = build(&leaves);
        let n = hashes.len() as u64;
        for size in [n, n.div_ceil(2), 1] {
            let root = tree_hash(size, &store).unwrap();
            prop_assert_eq!(root, root_from_leaf_hashes(&hashes[..size as usize]));
            for i in 0..size {
                let lh = hashes[i as usize];
                let proof = inclusion_proof(i, size, &store).unwrap();
                prop_assert!(verify_inclusion(&lh, i, size, &proof, &root).is_ok());

                prop_assert!(verify_inclusion(&flip(&lh, bit), i, size, &proof, &root).is_err());
                prop_assert!(verify_inclusion(&lh, i, size, &proof, &flip(&root, bit)).is_err());
                if size > 1 {
                    let other = (i + 1) % size;
                    prop_assert!(verify_inclusion(&lh, other, size, &proof, &root).is_err());
                }
                // Not size + 1: sizes whose trees give the leaf the same path
                // (3 and 4 for leaf 0) accept the same proof, and only the
                // signed checkpoint binds the size. Doubling always deepens it.
                prop_assert!(verify_inclusion(&lh, i, size * 2, &proof, &root).is_err());
                if !proof.is_empty() {
                    let k = bit % proof.len();
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k], bit);
                    prop_assert!(verify_inclusion(&lh, i, size, &bad, &root).is_err());
                    prop_assert!(verify_inclusion(&lh, i, size, &proof[1..], &root).is_err());
                }
                let mut longer = proof.clone();
                longer.push(root);
                prop_assert!(verify_inclusion(&lh, i, size, &longer, &root).is_err());
            }
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_tampering_fails(
        leaves in leaves_strategy(300),
        bit in 0usize..256,
    ) {
        let (store, _) = build(&leaves);
        let new = leaves.len() as u64;
        let new_root = tree_hash(new, &store).unwrap();
        for old in 0..=new {
            let old_root = tree_hash(old, &store).unwrap();
            let proof = consistency_proof(old, new, &store).unwrap();
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof).is_ok());

            prop_assert!(verify_consistency(old, new, &flip(&old_root, bit), &new_root, &proof).is_err());
            if old != 0 {
                prop_assert!(verify_consistency(old, new, &old_root, &flip(&new_root, bit), &proof).is_err());
            }
            if !proof.is_empty() {
                let k = bit % proof.len();
                let mut bad = proof.clone();
                bad[k] = flip(&bad[k], bit);
                prop_assert!(verify_consistency(old, new, &old_root, &new_root, &bad).is_err());
                prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof[..proof.len() - 1]).is_err());
                prop_assert!(verify_consistency(old - 1, new, &old_root, &new_root, &proof).is_err());
                prop_assert!(verify_consistency(old, new * 2, &old_root, &new_root, &proof).is_err());
            }
            if old < new {
                // The proof must not carry over to a different old tree.
                let wrong_old = tree_hash(old + 1, &store).unwrap();
                prop_assert!(verify_consistency(old, new, &wrong_old, &new_root, &proof).is_err());
            }
        }
    }

    #[test]
    fn batched_appends_store_the_same_hashes(
        leaves in leaves_strategy(200),
        cuts in prop::collection::vec(1usize..40, 1..10),
    ) {
        let (sequential, hashes) = build(&leaves);
        let mut batched = MemoryStore::new();
        let mut rest: &[Hash] = &hashes;
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at((*cut).min(rest.len()));
            batched.append_batch(batch).unwrap();
            rest = tail;
        }
        prop_assert_eq!(batched.stored(), sequential.stored());
        prop_assert_eq!(batched.stored().len() as u64, stored_hash_count(hashes.len() as u64));
    }

    #[test]
    fn agrees_with_ct_merkle(leaves in leaves_strategy(130)) {
        let (store, _) = build(&leaves);
        let mut ct = MemoryBackedTree::<Sha256, Vec<u8>>::new();
        for leaf in &leaves {
            ct.push(leaf.clone());
        }
        let n = leaves.len() as u64;
        let ct_root = ct.root();
        let our_root = tree_hash(n, &store).unwrap();
        prop_assert_eq!(ct_root.as_bytes().as_slice(), our_root.as_bytes());
        for i in 0..n {
            let ours: Vec<u8> = inclusion_proof(i, n, &store).unwrap().iter().flat_map(|h| h.0).collect();
            let theirs = ct.prove_inclusion(i as usize);
            prop_assert_eq!(theirs.as_bytes(), ours.as_slice());
        }
        // ct-merkle proves consistency from a nonempty prefix of its tree.
        for old in 1..n {
            let ours: Vec<u8> = consistency_proof(old, n, &store).unwrap().iter().flat_map(|h| h.0).collect();
            let theirs = ct.prove_consistency((n - old) as usize);
            prop_assert_eq!(theirs.as_bytes(), ours.as_slice(), "old {}", old);
        }
    }
}

#[test]
fn proofs_read_logarithmically_many_hashes_in_one_call() {
    let leaves: Vec<Vec<u8>> = (0u64..1000).map(|i| i.to_be_bytes().to_vec()).collect();
    let (store, _) = build(&leaves);
    let reader = Counting { inner: &store, calls: Cell::new(0), read: Cell::new(0) };
    for size in [1u64, 2, 3, 7, 8, 9, 255, 256, 257, 999, 1000] {
        let bound = 2 * log2_ceil(size) + 2;
        for (what, run) in [
            ("root", Box::new(|| tree_hash(size, &reader).map(|_| ())) as Box<dyn Fn() -> _>),
            ("inclusion", Box::new(|| inclusion_proof(size / 2, size, &reader).map(|_| ()))),
            ("consistency", Box::new(|| consistency_proof(size / 3, size, &reader).map(|_| ()))),
        ] {
            reader.calls.set(0);
            reader.read.set(0);
            run().unwrap();
            assert!(reader.calls.get() <= 1, "{what} size {size}: {} calls", reader.calls.get());
            assert!(reader.read.get() <= bound, "{what} size {size}: read {}", reader.read.get());
        }
    }
}

/// Float-free JSON values: what records hold.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(|n| Value::Number(n.into())),
        // Any Unicode, including controls, quotes, backslashes and astral characters.
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The direct RFC 8785 writer gives the same bytes as the general canonicalizer.
    #[test]
    fn canonical_json_matches_the_reference_canonicalizer(value in json_value()) {
        let ours = homeward_tlog::canonical_json(&value).unwrap();
        let reference = serde_json_canonicalizer::to_vec(&value).unwrap();
        prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&reference));
    }
}
