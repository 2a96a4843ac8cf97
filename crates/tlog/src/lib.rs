//! The shared log: RFC 9162 Merkle tree, proofs, commitments, checkpoints (issue 3). Not yet built.
