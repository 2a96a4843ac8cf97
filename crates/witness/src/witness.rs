//! The witness itself: checks an `add-checkpoint` request in the order
//! c2sp.org/tlog-witness states its rules, cosigns, persists, and keeps
//! evidence of a log that rewrote its history.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use homeward_tlog::{
    Checkpoint, Hash, KeyType, Note, NoteError, Signer, Verifier, cosign, empty_root, open_note, verify_consistency,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::state::{LogState, StateError, WitnessState, create_private_dir, write_private_atomic};
use homeward_tlog::{AddCheckpointRequest, RequestError};

/// A log the witness follows: its origin line and the public keys whose
/// signatures it accepts on that log's checkpoints.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The checkpoint origin, such as `homeward.example/log`.
    pub origin: String,
    /// Ed25519 signed-note keys of the log.
    pub verifiers: Vec<Verifier>,
}

/// Everything a witness needs to run.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// The witness's cosigning key, of type
    /// [`KeyType::CosignatureV1`]; its name is the witness's name.
    pub signer: Signer,
    /// The logs it follows; any other origin is refused.
    pub logs: Vec<LogConfig>,
    /// The JSON state file. Evidence goes in `evidence/` beside it.
    pub state_path: PathBuf,
}

/// The configuration or the state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The configuration is inconsistent.
    #[error("invalid witness configuration: {0}")]
    Config(String),
    /// The state file could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// The evidence directory could not be created.
    #[error("evidence directory {path}: {source}")]
    Evidence {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Why an `add-checkpoint` request was refused, one variant per HTTP status
/// the spec prescribes.
#[derive(Debug, thiserror::Error)]
pub enum AddCheckpointError {
    /// 400: the body, the note or the checkpoint is malformed, or the old
    /// size is above the checkpoint size.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: the checkpoint's origin is not a log this witness follows.
    #[error("unknown log")]
    UnknownLog,
    /// 403: no signature verifies against the log's keys, or one from a
    /// trusted key fails.
    #[error("no valid signature from the log")]
    Forbidden,
    /// 409 with `text/x.tlog.size`: the old size is not the size this witness
    /// last cosigned, which is `latest`.
    #[error("old size does not match; latest cosigned size is {latest}")]
    Conflict {
        /// The size of the latest cosigned checkpoint (0 if none).
        latest: u64,
    },
    /// 409: same size as the latest cosigned checkpoint but a different root.
    /// The log forked; evidence was kept.
    #[error("checkpoint root differs from the cosigned checkpoint of the same size")]
    RootMismatch,
    /// 422: the consistency proof does not verify (or the size-0 root is not
    /// the empty tree's).
    #[error("consistency proof does not verify")]
    BadProof,
    /// 500: the new state could not be persisted; nothing was cosigned.
    #[error("persisting witness state failed")]
    Storage(#[source] StateError),
}

impl AddCheckpointError {
    /// The HTTP status code for this refusal.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Forbidden => 403,
            Self::UnknownLog => 404,
            Self::Conflict { .. } | Self::RootMismatch => 409,
            Self::BadProof => 422,
            Self::Storage(_) => 500,
        }
    }
}

impl From<RequestError> for AddCheckpointError {
    fn from(e: RequestError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

/// What kind of misbehaviour an evidence file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// Two checkpoints of the same size with different roots, both signed by
    /// the log: proof on its own that the log forked.
    SameSizeDifferentRoot,
    /// A signed checkpoint that the offered proof does not connect to the
    /// cosigned one. A fork of a bigger tree looks like this, but so does a
    /// buggy client, so it is a lead rather than proof.
    InconsistentProof,
}

impl EvidenceKind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::SameSizeDifferentRoot => "same-size-different-root",
            Self::InconsistentProof => "inconsistent-proof",
        }
    }
}

/// One incident, as written to `evidence/<kind>-<id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was seen.
    pub kind: EvidenceKind,
    /// The log.
    pub origin: String,
    /// When the witness first saw it, Unix seconds.
    pub detected_at: u64,
    /// The checkpoint this witness had cosigned, with its cosignature.
    pub cosigned_checkpoint: String,
    /// The conflicting checkpoint, signed by the log, as submitted.
    pub submitted_checkpoint: String,
    /// The old size of the request.
    pub submitted_old_size: u64,
    /// The consistency proof of the request, base64.
    pub submitted_proof: Vec<String>,
}

/// A C2SP tlog-witness: verifies and cosigns checkpoints of the logs it
/// follows. Cheap to share behind an `Arc`; requests are serialised by an
/// internal lock, as the spec requires (check and persist atomically).
#[derive(Debug)]
pub struct Witness {
    signer: Signer,
    logs: HashMap<String, Vec<Verifier>>,
    state_path: PathBuf,
    evidence_dir: PathBuf,
    state: Mutex<WitnessState>,
}

impl Witness {
    /// Checks the configuration, loads the state file (a missing file is a
    /// new witness) and creates the evidence directory.
    ///
    /// # Errors
    /// [`WitnessError`] for a signer that is not a cosignature/v1 key, a log
    /// key that is not Ed25519, a duplicate origin or key, or an unreadable
    /// state file.
    pub fn open(config: WitnessConfig) -> Result<Self, WitnessError> {
        if config.signer.key_type() != KeyType::CosignatureV1 {
            return Err(WitnessError::Config("the witness key must be a cosignature/v1 (type 0x04) key".into()));
        }
        let mut logs = HashMap::new();
        for log in config.logs {
            Checkpoint::new(&log.origin, 0, empty_root())
                .to_body()
                .map_err(|_| WitnessError::Config(format!("invalid origin {:?}", log.origin)))?;
            if log.verifiers.is_empty() {
                return Err(WitnessError::Config(format!("log {} has no keys", log.origin)));
            }
            for (i, v) in log.verifiers.iter().enumerate() {
                if v.key_type() != KeyType::Ed25519 {
                    return Err(WitnessError::Config(format!(
                        "log {} key {} is not an Ed25519 key",
                        log.origin,
                        v.name()
                    )));
                }
                // open_note refuses ambiguous keys on every request; refuse
                // them once, here.
                if log.verifiers[..i].iter().any(|w| w.name() == v.name() && w.key_id() == v.key_id()) {
                    return Err(WitnessError::Config(format!("log {} lists key {} twice", log.origin, v.name())));
                }
            }
            if logs.insert(log.origin.clone(), log.verifiers).is_some() {
                return Err(WitnessError::Config(format!("log {} listed twice", log.origin)));
            }
        }
        let state = WitnessState::load(&config.state_path)?;
        let evidence_dir = match config.state_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.join("evidence"),
            _ => PathBuf::from("evidence"),
        };
        create_private_dir(&evidence_dir)
            .map_err(|source| WitnessError::Evidence { path: evidence_dir.clone(), source })?;
        Ok(Self { signer: config.signer, logs, state_path: config.state_path, evidence_dir, state: Mutex::new(state) })
    }

    /// The witness's name (its key name).
    #[must_use]
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The public key clients use to verify this witness's cosignatures.
    #[must_use]
    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// Where evidence files go.
    #[must_use]
    pub fn evidence_dir(&self) -> &Path {
        &self.evidence_dir
    }

    /// The latest cosigned state of log `origin`.
    #[must_use]
    pub fn latest(&self, origin: &str) -> Option<LogState> {
        self.lock().log(origin).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WitnessState> {
        // The in-memory state is replaced only after the file was written, so
        // a panic while holding the lock cannot leave it half-updated: going
        // on with it is safe.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Handles an `add-checkpoint` request body; `now` is the cosignature
    /// timestamp in Unix seconds (the spec forbids 0, so 0 is raised to 1).
    /// Returns the response body: the cosignature line(s).
    ///
    /// This blocks on file I/O; call it from a blocking context.
    ///
    /// # Errors
    /// [`AddCheckpointError`], whose [`AddCheckpointError::status`] is the
    /// HTTP status to answer with.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> Result<String, AddCheckpointError> {
        let body = std::str::from_utf8(body).map_err(|_| AddCheckpointError::BadRequest("body is not UTF-8".into()))?;
        let request = AddCheckpointRequest::parse(body)?;
        self.add_checkpoint_request(&request, now)
    }

    /// [`Witness::add_checkpoint`] for an already parsed request.
    ///
    /// # Errors
    /// As [`Witness::add_checkpoint`].
    pub fn add_checkpoint_request(
        &self,
        request: &AddCheckpointRequest,
        now: u64,
    ) -> Result<String, AddCheckpointError> {
        let now = now.max(1);
        let bad = |what: &str| AddCheckpointError::BadRequest(what.to_string());

        // "The witness MUST verify the checkpoint signature against the public
        // key(s) it trusts for the checkpoint origin [...] If the checkpoint
        // origin is unknown, the witness MUST respond with a 404 [...] If none
        // of the signatures verify against a trusted public key, [...] 403."
        let note = Note::parse(&request.checkpoint).map_err(|_| bad("malformed checkpoint note"))?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|_| bad("malformed checkpoint"))?;
        let verifiers = self.logs.get(&checkpoint.origin).ok_or(AddCheckpointError::UnknownLog)?;
        match open_note(&request.checkpoint, verifiers) {
            Ok(_) => {}
            Err(NoteError::InvalidSignature { .. } | NoteError::NoVerifiedSignature) => {
                return Err(AddCheckpointError::Forbidden);
            }
            Err(_) => return Err(bad("malformed checkpoint note")),
        }

        // "The old size MUST be equal to or lower than the checkpoint size.
        // Otherwise, the witness MUST respond with a 400 Bad Request."
        if request.old_size > checkpoint.size {
            return Err(bad("old size is above the checkpoint size"));
        }

        // From here to the write, one request at a time: "checking the old
        // size against the latest checkpoint and persisting the new
        // checkpoint must be performed atomically".
        let mut state = self.lock();
        let stored = state.log(&checkpoint.origin).cloned();
        let latest = stored.as_ref().map_or(0, |s| s.size);

        // "The witness MUST check that the old size matches the size of the
        // latest checkpoint it cosigned [...] If it doesn't match, [...] 409
        // Conflict [with] the tree size of the latest cosigned checkpoint."
        if request.old_size != latest {
            // A same-size checkpoint with another root proves a fork whatever
            // old size came with it: keep it before answering per the spec.
            if let Some(s) = &stored
                && s.size == checkpoint.size
                && s.root != checkpoint.root
            {
                self.record(EvidenceKind::SameSizeDifferentRoot, s, &checkpoint, request, now);
            }
            return Err(AddCheckpointError::Conflict { latest });
        }

        if checkpoint.size == request.old_size {
            // "If the old size matches the checkpoint size, the witness MUST
            // check that the root hashes are also identical. If they don't
            // match, [...] 409 Conflict."
            match &stored {
                Some(s) if s.root != checkpoint.root => {
                    self.record(EvidenceKind::SameSizeDifferentRoot, s, &checkpoint, request, now);
                    return Err(AddCheckpointError::RootMismatch);
                }
                // Never cosigned and size 0: the root must be the empty
                // tree's (as the spec's editor's draft makes explicit).
                None if checkpoint.root != empty_root() => {
                    return Err(AddCheckpointError::BadProof);
                }
                _ => {}
            }
            if !request.proof.is_empty() {
                return Err(AddCheckpointError::BadProof);
            }
        } else if request.old_size == 0 {
            // "The proof MUST be empty if the old size is zero." Anything
            // extends the empty tree.
            if !request.proof.is_empty() {
                return Err(AddCheckpointError::BadProof);
            }
        } else {
            // "If the Merkle Consistency Proof doesn't verify, [...] 422."
            let s = stored.as_ref().ok_or(AddCheckpointError::Conflict { latest })?;
            if verify_consistency(s.size, checkpoint.size, &s.root, &checkpoint.root, &request.proof).is_err() {
                // "the witness MAY log the request even if the consistency
                // proof doesn't verify [...] as it might be proof of log
                // misbehavior."
                self.record(EvidenceKind::InconsistentProof, s, &checkpoint, request, now);
                return Err(AddCheckpointError::BadProof);
            }
        }

        let cosignature = cosign(&note.text, &self.signer, now).map_err(|_| bad("checkpoint cannot be cosigned"))?;
        let mut cosigned = note;
        cosigned.add_signature(cosignature.clone());

        // "The witness MUST persist the new checkpoint before responding."
        let mut next = state.clone();
        next.logs.insert(
            checkpoint.origin.clone(),
            LogState { size: checkpoint.size, root: checkpoint.root, checkpoint: cosigned.to_string() },
        );
        next.save(&self.state_path).map_err(AddCheckpointError::Storage)?;
        *state = next;
        drop(state);

        tracing::info!(
            origin = %checkpoint.origin,
            old_size = request.old_size,
            size = checkpoint.size,
            root = %checkpoint.root.to_base64(),
            "cosigned checkpoint"
        );
        Ok(cosignature.to_line())
    }

    /// Logs an incident at error level and keeps both checkpoints in the
    /// evidence directory. Failing to write evidence does not change the
    /// answer (the request is refused anyway) but is logged too.
    fn record(
        &self,
        kind: EvidenceKind,
        stored: &LogState,
        submitted: &Checkpoint,
        request: &AddCheckpointRequest,
        now: u64,
    ) {
        let evidence = Evidence {
            kind,
            origin: submitted.origin.clone(),
            detected_at: now,
            cosigned_checkpoint: stored.checkpoint.clone(),
            submitted_checkpoint: request.checkpoint.clone(),
            submitted_old_size: request.old_size,
            submitted_proof: request.proof.iter().map(Hash::to_base64).collect(),
        };
        // One file per incident, named after the cosigned tree head and the
        // conflicting signed checkpoint: showing it again (with any old size
        // or proof, or after a re-cosigning of the same head) maps to the same
        // file, so replaying it cannot fill the disk, and the first sighting
        // is what is kept.
        let mut id = Sha256::new();
        id.update(kind.as_str().as_bytes());
        id.update(stored.size.to_be_bytes());
        id.update(stored.root.as_bytes());
        id.update(request.checkpoint.as_bytes());
        let id = id.finalize();
        let path = self.evidence_dir.join(format!(
            "{}-{}.json",
            kind.as_str(),
            id[..12].iter().map(|b| format!("{b:02x}")).collect::<String>()
        ));
        let written = if path.exists() {
            Ok(())
        } else {
            serde_json::to_vec_pretty(&evidence)
                .map_err(std::io::Error::other)
                .and_then(|json| write_private_atomic(&path, &json))
        };
        // Sizes and hashes only: no personal data is ever in a checkpoint.
        tracing::error!(
            kind = kind.as_str(),
            origin = %submitted.origin,
            cosigned_size = stored.size,
            cosigned_root = %stored.root.to_base64(),
            submitted_size = submitted.size,
            submitted_root = %submitted.root.to_base64(),
            submitted_old_size = request.old_size,
            evidence = %path.display(),
            evidence_written = written.is_ok(),
            "LOG MISBEHAVIOUR: refused a checkpoint that is not consistent with the one this witness cosigned"
        );
        if let Err(e) = written {
            tracing::error!(error = %e, evidence = %path.display(), "could not write evidence");
        }
    }
}
