//! Submitting checkpoints to witnesses (C2SP tlog-witness) and collecting
//! their cosignatures (C2SP tlog-cosignature).
//!
//! Each party and the mediator run a witness (`homeward witness serve`). After
//! the sequencer signs a checkpoint, it offers it to every configured witness
//! with a consistency proof from the size that witness last cosigned, and
//! adds the cosignatures it gets back to the note. A checkpoint is stored,
//! and so published, only once every *required* witness has cosigned it:
//! that is what lets a deployment say "nothing counts until both parties'
//! witnesses have seen it".
//!
//! Witnesses are reached over plain HTTP (hyper): put TLS in front of a
//! witness that is not on the same network.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use homeward_store::Store;
use homeward_tlog::{ADD_CHECKPOINT_PATH, AddCheckpointRequest, LATEST_CHECKPOINT_PATH};
use homeward_tlog::{Verifier, open_note};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use super::{LogError, prove_consistency};

/// A witness in `homeward.toml`:
/// `[[witnesses]] name = "...", url = "http://host:port", key = "<verifier key>", required = true`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WitnessTarget {
    pub name: String,
    /// Base URL; checkpoints are POSTed to `{url}/add-checkpoint`.
    pub url: String,
    /// The witness's cosignature/v1 verifier key (`homeward witness key` prints it).
    pub key: String,
    /// A checkpoint is published only with this witness's cosignature.
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug)]
pub struct Witnesses {
    targets: Vec<(WitnessTarget, Verifier)>,
    /// The size each witness last cosigned, as far as we know.
    last: Mutex<HashMap<String, u64>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

#[derive(Debug, thiserror::Error)]
pub enum WitnessConfigError {
    #[error("witness {name}: key: {reason}")]
    Key { name: String, reason: String },
}

/// The outcome of offering one checkpoint.
#[derive(Debug)]
pub struct Cosigned {
    /// The note with every cosignature obtained.
    pub note: String,
    /// Names of required witnesses that did not cosign.
    pub missing_required: Vec<String>,
}

impl Witnesses {
    pub fn new(targets: &[WitnessTarget]) -> Result<Self, WitnessConfigError> {
        let targets = targets
            .iter()
            .map(|t| {
                Verifier::parse(t.key.trim())
                    .map(|v| (t.clone(), v))
                    .map_err(|e| WitnessConfigError::Key { name: t.name.clone(), reason: e.to_string() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(Self { targets, last: Mutex::new(HashMap::new()), client })
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Offers `note` (a signed checkpoint of `size` leaves) to every witness,
    /// all at once: one witness that does not answer delays the checkpoint
    /// by its timeout, not by the sum of every witness's.
    pub async fn cosign(&self, store: &dyn Store, note: &str, size: u64) -> Result<Cosigned, LogError> {
        let mut lines = Vec::new();
        let mut missing_required = Vec::new();
        let offers = self.targets.iter().map(|(target, verifier)| self.offer(store, target, verifier, note, size));
        let answers = futures_util::future::join_all(offers).await;
        for ((target, _), answer) in self.targets.iter().zip(answers) {
            match answer {
                Ok(line) => lines.push(line),
                Err(reason) if target.required => {
                    tracing::error!(witness = %target.name, %reason, size, "required witness did not cosign");
                    missing_required.push(target.name.clone());
                }
                Err(reason) => tracing::warn!(witness = %target.name, %reason, size, "witness did not cosign"),
            }
        }
        let mut with = note.to_owned();
        for line in lines {
            with.push_str(&line);
        }
        Ok(Cosigned { note: with, missing_required })
    }

    /// The required witnesses whose valid cosignature `note` lacks.
    pub fn required_missing(&self, note: &str) -> Vec<String> {
        self.targets
            .iter()
            .filter(|(t, _)| t.required)
            .filter(|(_, v)| open_note(note, std::slice::from_ref(v)).map_or(true, |o| o.verified.is_empty()))
            .map(|(t, _)| t.name.clone())
            .collect()
    }

    /// Asks every witness for the checkpoint it last cosigned for `origin`
    /// (`GET /latest-checkpoint`): `Ok(None)` if it cosigned none. An
    /// answer is kept only with the witness's own valid cosignature on it.
    pub async fn latest_cosigned(&self, origin: &str) -> Vec<(String, Result<Option<String>, String>)> {
        let asks = self.targets.iter().map(|(target, verifier)| async move {
            (target.name.clone(), self.ask_latest(target, verifier, origin).await)
        });
        futures_util::future::join_all(asks).await
    }

    async fn ask_latest(
        &self,
        target: &WitnessTarget,
        verifier: &Verifier,
        origin: &str,
    ) -> Result<Option<String>, String> {
        let encoded: String = origin
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let url = format!("{}{LATEST_CHECKPOINT_PATH}?origin={encoded}", target.url.trim_end_matches('/'));
        let (status, body) = self.exchange(hyper::Request::get(&url).body(Full::new(Bytes::new()))).await?;
        match status {
            200 => {
                let text = String::from_utf8(body.to_vec()).map_err(|_| "answered a checkpoint that is not text")?;
                let opened = open_note(&text, std::slice::from_ref(verifier)).map_err(|e| e.to_string())?;
                if opened.verified.is_empty() {
                    return Err("answered a checkpoint without its own valid cosignature".into());
                }
                Ok(Some(text))
            }
            404 => Ok(None),
            code => Err(format!("answered {code}")),
        }
    }

    /// Sends one request to a witness, within 10 s: its status and body.
    async fn exchange(
        &self,
        request: Result<hyper::Request<Full<Bytes>>, hyper::http::Error>,
    ) -> Result<(u16, Bytes), String> {
        let request = request.map_err(|e| format!("bad witness URL: {e}"))?;
        let response = tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| format!("cannot reach it: {e}"))?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, body))
    }

    /// One witness: up to two tries (the first may learn the witness's size from a 409).
    async fn offer(
        &self,
        store: &dyn Store,
        target: &WitnessTarget,
        verifier: &Verifier,
        note: &str,
        size: u64,
    ) -> Result<String, String> {
        for _ in 0..2 {
            let old = self.last.lock().expect("not poisoned").get(&target.name).copied().unwrap_or(0).min(size);
            let proof = if old == 0 {
                Vec::new()
            } else {
                prove_consistency(store, old, size).await.map_err(|e| e.to_string())?
            };
            let body = AddCheckpointRequest { old_size: old, proof, checkpoint: note.to_owned() }.to_body();
            let url = format!("{}{ADD_CHECKPOINT_PATH}", target.url.trim_end_matches('/'));
            let (status, body) = self.exchange(hyper::Request::post(&url).body(Full::new(Bytes::from(body)))).await?;
            let text = String::from_utf8_lossy(&body).to_string();
            match status {
                200 => {
                    // Each line must be a valid cosignature by this witness on this checkpoint.
                    let candidate = format!("{note}{text}");
                    let opened = open_note(&candidate, std::slice::from_ref(verifier)).map_err(|e| e.to_string())?;
                    if opened.verified.is_empty() {
                        return Err("answered without a valid cosignature".into());
                    }
                    self.last.lock().expect("not poisoned").insert(target.name.clone(), size);
                    return Ok(text);
                }
                409 => match text.trim().parse::<u64>() {
                    Ok(theirs) if theirs <= size => {
                        self.last.lock().expect("not poisoned").insert(target.name.clone(), theirs);
                    }
                    _ => return Err(format!("refused the checkpoint (409): {}", text.trim())),
                },
                code => return Err(format!("answered {code}: {}", text.trim())),
            }
        }
        Err("kept answering 409".into())
    }
}
