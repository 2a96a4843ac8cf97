//! The shared log of homeward: an append-only RFC 9162 Merkle log, the leaves
//! that go into it, and the signed checkpoints that pin it.
//!
//! Key design decision: the tree is kept as a flat, append-only sequence of
//! *stored hashes* (the layout of Go's sumdb `tlog`), read through the
//! [`HashReader`] trait. A database backend appends about two hashes per leaf
//! in the same transaction as the change it logs, and roots, inclusion proofs
//! and consistency proofs for any past size read only O(log n) of them. The
//! proofs themselves are the standard RFC 9162 ones, checked by pure functions
//! in [`verify`], so any RFC 6962/9162 client can check them.
//!
//! What the crate holds:
//! - [`hash`]: RFC 9162 leaf, node and empty-tree hashes.
//! - [`tree`]: stored-hash index math, appends, roots and proofs.
//! - [`verify`]: RFC 9162 inclusion and consistency verifiers.
//! - [`leaf`]: the [`LogLeaf`] format, salted content commitments and RFC 8785
//!   canonical JSON.
//! - [`note`], [`checkpoint`], [`cosignature`]: C2SP signed notes (Ed25519),
//!   tlog-checkpoint bodies and tlog-cosignature/v1 witness cosignatures.
//! - [`tiles`]: C2SP tlog-tiles paths, tile contents built from stored
//!   hashes, entry bundles, and [`TileHashReader`], which authenticates
//!   downloaded tiles against a checkpoint's root.
//!
//! ```
//! use homeward_tlog::{MemoryStore, inclusion_proof, consistency_proof, leaf_hash, tree_hash,
//!                     verify_inclusion, verify_consistency};
//!
//! let mut log = MemoryStore::new(); // a database implements `HashReader` instead
//! for event in [&b"a"[..], b"b", b"c"] {
//!     log.append(leaf_hash(event))?;
//! }
//! let old_root = tree_hash(2, &log)?;
//! let root = tree_hash(3, &log)?;
//! let proof = inclusion_proof(1, 3, &log)?;
//! verify_inclusion(&leaf_hash(b"b"), 1, 3, &proof, &root)?;
//! let proof = consistency_proof(2, 3, &log)?;
//! verify_consistency(2, 3, &old_root, &root, &proof)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What it does not do: no storage, database, network, clock or
//! configuration (callers pass timestamps in), no HTTP (the witness
//! protocol's messages are here, in [`witness_protocol`], since the log's
//! client and the witness both speak them; serving them is
//! `homeward-witness`'s, serving tiles the web layer's), and no personal
//! data: a leaf only carries identifiers and a salted hash of the content,
//! never the content.

pub mod checkpoint;
pub mod cosignature;
pub mod hash;
mod hex;
pub mod leaf;
pub mod note;
pub mod tiles;
pub mod tree;
pub mod verify;
pub mod witness_protocol;

pub use checkpoint::{Checkpoint, CheckpointError, open_checkpoint, sign_checkpoint};
pub use cosignature::cosign;
pub use hash::{HASH_SIZE, Hash, empty_root, leaf_hash, node_hash, root_from_leaf_hashes};
pub use leaf::{CanonicalJsonError, LeafError, LeafRecord, LogLeaf, canonical_json, commitment, generate_salt};
pub use note::{KeyType, Note, NoteError, NoteSignature, Signer, VerifiedNote, VerifiedSignature, Verifier, open_note};
pub use tiles::{
    EntryBundle, Tile, TileError, TileHashReader, TilePath, TileReadError, TileReader, decode_entry_bundle,
    encode_entry_bundle, new_tiles, parse_tile_path, read_tile, verify_entry_bundle,
};
pub use tree::{
    HashReader, MemoryStore, MissingHash, NotFetched, PrefetchedHashes, TreeError, consistency_proof, inclusion_proof,
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes_for_record, stored_hashes_for_records,
    tree_hash,
};
pub use verify::{ProofError, root_from_inclusion_proof, verify_consistency, verify_inclusion};
pub use witness_protocol::{
    ADD_CHECKPOINT_PATH, AddCheckpointRequest, LATEST_CHECKPOINT_PATH, MAX_PROOF_LINES, RequestError, SIZE_CONTENT_TYPE,
};
