//! Known-answer tests: the "RFC 6962 test data" used by Certificate
//! Transparency and transparency-dev/merkle (eight leaves, their roots, and a
//! set of inclusion and consistency proofs), run against both the stored-hash
//! tree and the pure verifiers.

use homeward_tlog::{
    Hash, MemoryStore, ProofError, consistency_proof, empty_root, inclusion_proof, leaf_hash, root_from_leaf_hashes,
    tree_hash, verify_consistency, verify_inclusion,
};

fn h(s: &str) -> Hash {
    Hash::from_hex(s).expect("test vector hex")
}

fn leaves() -> Vec<Vec<u8>> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|s| (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect())
        .collect()
}

/// Roots of the trees of the first 1..=8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (1-based leaf, tree size, proof).
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (3, 3, vec![h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
        (
            2,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// (old size, new size, proof).
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

fn store() -> MemoryStore {
    let mut store = MemoryStore::new();
    for leaf in leaves() {
        store.append(leaf_hash(&leaf)).unwrap();
    }
    store
}

fn root(size: u64) -> Hash {
    h(ROOTS[usize::try_from(size).unwrap() - 1])
}

#[test]
fn roots_match_known_answers() {
    let store = store();
    let leaf_hashes: Vec<Hash> = leaves().iter().map(|l| leaf_hash(l)).collect();
    assert_eq!(tree_hash(0, &store).unwrap(), empty_root());
    for size in 1..=8u64 {
        assert_eq!(tree_hash(size, &store).unwrap(), root(size), "size {size}");
        let n = usize::try_from(size).unwrap();
        assert_eq!(root_from_leaf_hashes(&leaf_hashes[..n]), root(size));
    }
}

#[test]
fn inclusion_proofs_match_known_answers() {
    let store = store();
    let leaves = leaves();
    for (leaf, size, want) in inclusion_vectors() {
        let index = leaf - 1;
        let got = inclusion_proof(index, size, &store).unwrap();
        assert_eq!(got, want, "leaf {leaf} size {size}");
        let lh = leaf_hash(&leaves[usize::try_from(index).unwrap()]);
        verify_inclusion(&lh, index, size, &want, &root(size)).unwrap();
    }
}

#[test]
fn consistency_proofs_match_known_answers() {
    let store = store();
    for (old, new, want) in consistency_vectors() {
        let got = consistency_proof(old, new, &store).unwrap();
        assert_eq!(got, want, "{old} -> {new}");
        verify_consistency(old, new, &root(old), &root(new), &want).unwrap();
    }
}

/// The corruptions of transparency-dev/merkle's `corruptInclusionProof`.
#[test]
fn corrupted_inclusion_proofs_fail() {
    let leaves = leaves();
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (leaf, size, proof) in inclusion_vectors().into_iter().skip(1) {
        let i = leaf - 1;
        let lh = leaf_hash(&leaves[usize::try_from(i).unwrap()]);
        let r = root(size);
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (i.wrapping_sub(1), size, lh, r, proof.clone()),
            (i + 1, size, lh, r, proof.clone()),
            (i ^ 2, size, lh, r, proof.clone()),
            (i, size * 2, lh, r, proof.clone()),
            (i, size / 2, lh, r, proof.clone()),
            (i, size, leaf_hash(b"WrongLeaf"), r, proof.clone()),
            (i, size, lh, empty_root(), proof.clone()),
            (i, size, lh, some, proof.clone()),
            (i, size, lh, r, [proof.clone(), vec![r]].concat()),
            (i, size, lh, r, [vec![r], proof.clone()].concat()),
        ];
        for k in 0..proof.len() {
            let mut p = proof.clone();
            p[k].0[0] ^= 8;
            probes.push((i, size, lh, r, p));
        }
        if !proof.is_empty() {
            probes.push((i, size, lh, r, proof[..proof.len() - 1].to_vec()));
        }
        if proof.len() > 1 {
            let mut p = proof.clone();
            p.insert(1, some);
            probes.push((i, size, lh, r, p));
        }
        for (n, (pi, ps, pl, pr, pp)) in probes.iter().enumerate() {
            assert!(verify_inclusion(pl, *pi, *ps, pp, pr).is_err(), "probe {n} for leaf {leaf} size {size} verified");
        }
    }
}

/// The corruptions of transparency-dev/merkle's `corruptConsistencyProof`.
#[test]
fn corrupted_consistency_proofs_fail() {
    let wrong = leaf_hash(b"WrongRoot");
    for (s1, s2, proof) in consistency_vectors() {
        if proof.is_empty() {
            continue;
        }
        let (r1, r2) = (root(s1), root(s2));
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (s1 - 1, s2, r1, r2, proof.clone()),
            (s1 + 1, s2, r1, r2, proof.clone()),
            (s1 ^ 2, s2, r1, r2, proof.clone()),
            (s1, s2 * 2, r1, r2, proof.clone()),
            (s1, s2 / 2, r1, r2, proof.clone()),
            (s1, s2, wrong, r2, proof.clone()),
            (s1, s2, r1, wrong, proof.clone()),
            (s1, s2, r2, r1, proof.clone()),
            (s1, s2, r1, r2, vec![]),
            (s1, s2, r1, r2, [proof.clone(), vec![r1]].concat()),
            (s1, s2, r1, r2, [proof.clone(), vec![r2]].concat()),
            (s1, s2, r1, r2, [vec![r1], proof.clone()].concat()),
            (s1, s2, r1, r2, [vec![r2], proof.clone()].concat()),
            (s1, s2, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            (s1, s2, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for k in 0..proof.len() {
            let mut p = proof.clone();
            p[k].0[0] ^= 16;
            probes.push((s1, s2, r1, r2, p));
        }
        for (n, (a, b, ra, rb, p)) in probes.iter().enumerate() {
            assert!(verify_consistency(*a, *b, ra, rb, p).is_err(), "probe {n} for {s1}->{s2} verified");
        }
    }
}

#[test]
fn consistency_edge_cases() {
    let r = root(3);
    let e = empty_root();
    // Equal sizes: equal roots, empty proof.
    assert!(verify_consistency(3, 3, &r, &r, &[]).is_ok());
    assert!(verify_consistency(3, 3, &r, &root(4), &[]).is_err());
    assert!(verify_consistency(3, 3, &r, &r, &[e]).is_err());
    // From the empty tree: nothing to prove, but the old root must be empty.
    assert!(verify_consistency(0, 3, &e, &r, &[]).is_ok());
    assert!(verify_consistency(0, 3, &r, &r, &[]).is_err());
    assert!(verify_consistency(0, 3, &e, &r, &[e]).is_err());
    assert!(verify_consistency(0, 0, &e, &e, &[]).is_ok());
    // Shrinking is never consistent.
    assert_eq!(verify_consistency(4, 3, &root(4), &r, &[]), Err(ProofError::InvalidParameters));
    let store = store();
    assert!(consistency_proof(4, 3, &store).is_err());
    assert!(consistency_proof(0, 3, &store).unwrap().is_empty());
    assert!(inclusion_proof(3, 3, &store).is_err());
}

#[test]
fn inclusion_edge_cases() {
    let lh = leaf_hash(b"data");
    // A one-leaf tree's root is its leaf hash, with an empty proof.
    assert!(verify_inclusion(&lh, 0, 1, &[], &lh).is_ok());
    assert!(verify_inclusion(&lh, 0, 1, &[], &empty_root()).is_err());
    for (i, n) in [(0, 0), (1, 0), (2, 1)] {
        assert_eq!(verify_inclusion(&lh, i, n, &[], &lh), Err(ProofError::InvalidParameters));
    }
}
