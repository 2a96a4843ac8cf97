//! Reveal bundles: a record's content with its salt, its leaf, an inclusion
//! proof and the signed checkpoint, so that someone entitled to the record
//! can prove to anyone holding the log's public key that it was logged, and
//! when. `check` needs nothing but the bundle and the key.

use homeward_store::RecordKey;
use homeward_store::Store;
use homeward_store::log::{event, record_id_of_content};
use homeward_tlog::{
    Hash, LeafRecord, LogLeaf, Verifier, canonical_json, commitment, open_checkpoint, open_note, verify_inclusion,
};
use serde::{Deserialize, Serialize};

use super::{LogError, prove_inclusion};

pub const FORMAT: &str = "homeward-reveal/v1";

/// Everything needed to check that a record was logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealBundle {
    pub format: String,
    /// The record's content, as committed (RFC 8785 of this value).
    pub content: serde_json::Value,
    /// The salt, hex.
    pub salt: String,
    pub leaf: RevealedLeaf,
    /// RFC 9162 inclusion proof of the leaf in the checkpoint's tree, base64 hashes.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note) the proof leads to.
    pub checkpoint: String,
}

/// The leaf's fields, as in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealedLeaf {
    /// The leaf's encoding version (docs/LOG.md); bundles made before
    /// version 2 do not say, and are version 1.
    #[serde(default = "version_1")]
    pub version: u8,
    pub index: u64,
    pub time_ms: i64,
    pub actor_role: String,
    pub actor_party: Option<String>,
    pub event_type: String,
    /// Version 1 leaves only: the record they name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// Hex.
    pub commitment: String,
}

fn version_1() -> u8 {
    1
}

#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    #[error("no record {0} in the log")]
    NotFound(String),
    #[error("record {0} is not in a signed checkpoint yet; try again in a few seconds")]
    NotYetPublished(String),
    #[error(transparent)]
    Log(#[from] LogError),
}

/// Why a bundle does not check out.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckError {
    #[error("not a {FORMAT} bundle")]
    Format,
    #[error("{0} is not valid hex or base64")]
    Encoding(&'static str),
    #[error("the content and salt do not give the leaf's commitment: the content was changed")]
    Commitment,
    #[error("the content is a different record than the leaf names")]
    WrongRecord,
    #[error("the checkpoint does not verify with the log's key: {0}")]
    Checkpoint(String),
    #[error("the inclusion proof does not lead from the leaf to the checkpoint's root")]
    Inclusion,
    #[error("the checkpoint has no valid cosignature of the witness key {0}")]
    Cosignature(String),
}

/// What a checked bundle proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub record_id: String,
    pub leaf_index: u64,
    pub time_ms: i64,
    pub checkpoint_size: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Builds the bundle for a record, proving inclusion in the latest checkpoint.
pub async fn reveal(store: &dyn Store, record_id: &str) -> Result<RevealBundle, RevealError> {
    let not_found = || RevealError::NotFound(record_id.to_owned());
    let key = RecordKey::parse(record_id).ok_or_else(not_found)?;
    let (entry, record) = store.entry_for_record(&key).await.map_err(LogError::from)?.ok_or_else(not_found)?;
    let record = record.ok_or_else(not_found)?;
    let index = entry.leaf_index.ok_or_else(|| RevealError::NotYetPublished(record_id.to_owned()))?;
    let checkpoint = store.latest_checkpoint().await.map_err(LogError::from)?;
    let checkpoint =
        checkpoint.filter(|c| c.size > index).ok_or_else(|| RevealError::NotYetPublished(record_id.to_owned()))?;
    let proof = prove_inclusion(store, index, checkpoint.size).await?;
    let leaf = entry.leaf().ok_or_else(|| RevealError::NotYetPublished(record_id.to_owned()))?;
    let (record_type, record_id) = match leaf.record {
        Some(r) => (Some(r.record_type), Some(r.record_id)),
        None => (None, None),
    };
    Ok(RevealBundle {
        format: FORMAT.to_owned(),
        content: record.content(),
        salt: hex(&entry.salt),
        leaf: RevealedLeaf {
            version: if record_id.is_some() { 1 } else { 2 },
            index,
            time_ms: leaf.time_ms,
            actor_role: leaf.actor_role,
            actor_party: leaf.actor_party,
            event_type: leaf.event_type,
            record_type,
            record_id,
            commitment: hex(&entry.commitment),
        },
        inclusion_proof: proof.iter().map(Hash::to_base64).collect(),
        checkpoint: checkpoint.note,
    })
}

/// Checks a bundle against the log's public key, with nothing else.
pub fn check(bundle: &RevealBundle, log_key: &Verifier) -> Result<Checked, CheckError> {
    check_cosigned(bundle, log_key, &[])
}

/// [`check`], and the checkpoint must carry a valid cosignature of each of
/// `witnesses` (so that the proof holds only in a history the parties'
/// witnesses saw).
pub fn check_cosigned(
    bundle: &RevealBundle,
    log_key: &Verifier,
    witnesses: &[Verifier],
) -> Result<Checked, CheckError> {
    if bundle.format != FORMAT {
        return Err(CheckError::Format);
    }
    let salt = unhex32(&bundle.salt).ok_or(CheckError::Encoding("salt"))?;
    let committed = unhex32(&bundle.leaf.commitment).ok_or(CheckError::Encoding("commitment"))?;
    let bytes = canonical_json(&bundle.content).map_err(|_| CheckError::Commitment)?;
    if commitment(&salt, &bytes) != committed {
        return Err(CheckError::Commitment);
    }
    let named = bundle.content.get("type").and_then(|t| t.as_str());
    let record = match (bundle.leaf.version, &bundle.leaf.record_type, &bundle.leaf.record_id) {
        (1, Some(record_type), Some(record_id)) => {
            if named != Some(record_type.as_str()) {
                return Err(CheckError::WrongRecord);
            }
            Some(LeafRecord { record_type: record_type.clone(), record_id: record_id.clone() })
        }
        (2, None, None) => {
            // The leaf names no record: the content must be of the kind its event type logs.
            if named.is_none() || event::record_type(&bundle.leaf.event_type) != named {
                return Err(CheckError::WrongRecord);
            }
            None
        }
        _ => return Err(CheckError::Format),
    };
    let record_id = match &record {
        Some(r) => r.record_id.clone(),
        None => record_id_of_content(&bundle.content).ok_or(CheckError::WrongRecord)?,
    };
    let leaf = LogLeaf {
        seq: bundle.leaf.index,
        time_ms: bundle.leaf.time_ms,
        actor_role: bundle.leaf.actor_role.clone(),
        actor_party: bundle.leaf.actor_party.clone(),
        event_type: bundle.leaf.event_type.clone(),
        record,
        commitment: committed,
    };
    let leaf_hash = leaf.leaf_hash().map_err(|_| CheckError::WrongRecord)?;
    let (cp, _) = open_checkpoint(&bundle.checkpoint, log_key.name(), std::slice::from_ref(log_key))
        .map_err(|e| CheckError::Checkpoint(e.to_string()))?;
    for w in witnesses {
        let cosigned = open_note(&bundle.checkpoint, std::slice::from_ref(w)).is_ok_and(|o| !o.verified.is_empty());
        if !cosigned {
            return Err(CheckError::Cosignature(w.name().to_owned()));
        }
    }
    let proof = bundle
        .inclusion_proof
        .iter()
        .map(|h| Hash::from_base64(h).ok_or(CheckError::Encoding("inclusion_proof")))
        .collect::<Result<Vec<_>, _>>()?;
    verify_inclusion(&leaf_hash, leaf.seq, cp.size, &proof, &cp.root).map_err(|_| CheckError::Inclusion)?;
    Ok(Checked { record_id, leaf_index: leaf.seq, time_ms: leaf.time_ms, checkpoint_size: cp.size })
}
