//! C2SP tlog-cosignature/v1 with Ed25519 (signature type 0x04): a witness's
//! timestamped statement that a checkpoint is the largest consistent tree
//! head it has seen for that log.
//!
//! The signature line carries `key ID || u64 timestamp (big-endian) ||
//! Ed25519 signature` over
//! `"cosignature/v1\ntime <timestamp>\n" || checkpoint body`.
//!
//! Verification is part of [`crate::note::open_note`]: give it a
//! [`Verifier`](crate::note::Verifier) of type
//! [`KeyType::CosignatureV1`] and the verified signature carries the
//! timestamp. Checking consistency before cosigning is the witness's job,
//! with [`crate::verify::verify_consistency`].

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{KeyType, NoteError, NoteSignature, Signer};

/// The message a v1 cosignature signs for `checkpoint_body` at `timestamp`
/// (Unix seconds).
#[must_use]
pub fn signed_message(checkpoint_body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_body}")
}

/// Cosigns `checkpoint_body` at `timestamp` (Unix seconds) with a
/// [`KeyType::CosignatureV1`] key. Add the result to the checkpoint's note
/// with [`crate::note::Note::add_signature`].
///
/// # Errors
/// [`CheckpointError::Malformed`] if the body is not a checkpoint;
/// [`NoteError::WrongKeyType`] for a non-cosigner key;
/// [`NoteError::MalformedText`] for a timestamp above 2^63 - 1.
pub fn cosign(checkpoint_body: &str, signer: &Signer, timestamp: u64) -> Result<NoteSignature, CheckpointError> {
    Checkpoint::parse(checkpoint_body)?;
    if signer.key_type() != KeyType::CosignatureV1 {
        return Err(NoteError::WrongKeyType(signer.key_type()).into());
    }
    if timestamp > i64::MAX as u64 {
        return Err(NoteError::MalformedText.into());
    }
    let sig = signer.sign_raw(signed_message(checkpoint_body, timestamp).as_bytes());
    let mut signature = timestamp.to_be_bytes().to_vec();
    signature.extend_from_slice(&sig);
    Ok(NoteSignature { name: signer.name().to_string(), key_id: signer.key_id(), signature })
}
