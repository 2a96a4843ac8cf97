//! A witness for homeward's shared log, speaking C2SP tlog-witness
//! (c2sp.org/tlog-witness) so that any log client or witness software that
//! follows the spec interoperates with it.
//!
//! Each warring party and the mediator run one. The log POSTs every new
//! checkpoint to `/add-checkpoint` with a consistency proof from the size the
//! witness last cosigned; the witness checks the log's signature, checks that
//! the tree only grew, and answers with a tlog-cosignature/v1 line. A
//! checkpoint cosigned by both parties' witnesses is one that neither side
//! can later deny or rewrite.
//!
//! Key design decision: the witness's memory is one small JSON file (per log
//! origin: the last cosigned size, root and checkpoint), replaced atomically
//! (temporary file, fsync, rename, fsync of the directory) with mode 0600,
//! and every request runs check-then-persist under one lock before it
//! answers. That is the spec's atomicity rule, and it keeps the witness free
//! of any database, so each party can run it on a machine of its own with
//! nothing shared with the log's operator. A state file that exists but does
//! not parse stops the witness rather than resetting it, since a reset
//! witness would cosign a rewritten history.
//!
//! When a log shows a checkpoint of the cosigned size with another root, or
//! one that the offered proof does not connect to the cosigned one, the
//! witness refuses, logs at error level (only sizes and hashes: a checkpoint
//! carries no personal data) and keeps both signed checkpoints as evidence,
//! one JSON file per incident in `evidence/` beside the state file.
//!
//! - [`Witness`]: the protocol logic, usable without HTTP.
//! - [`router`], [`serve`] and [`serve_with_shutdown`]: the HTTP interface
//!   (axum): `POST /add-checkpoint` (C2SP), and `GET /latest-checkpoint?origin=`
//!   (homeward's own): the checkpoint this witness last cosigned for a log,
//!   with its cosignature, so that `homeward log verify` can tell a log cut
//!   back below what the witness saw, even when the log's own checkpoints
//!   were deleted with the leaves.
//! - [`AddCheckpointRequest`]: the request body, for the log's side too.
//! - [`WitnessState`]: the state file.

mod state;
mod witness;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use homeward_tlog::{
    ADD_CHECKPOINT_PATH, AddCheckpointRequest, LATEST_CHECKPOINT_PATH, MAX_PROOF_LINES, RequestError, SIZE_CONTENT_TYPE,
};
pub use state::{LogState, STATE_VERSION, StateError, WitnessState, write_private_atomic};
pub use witness::{AddCheckpointError, Evidence, EvidenceKind, LogConfig, Witness, WitnessConfig, WitnessError};

/// Largest request body accepted. 63 proof lines and a checkpoint with the
/// 100 signatures a note may carry fit in well under this.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The witness's HTTP interface: `POST /add-checkpoint`. Mount it under the
/// submission prefix.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route(ADD_CHECKPOINT_PATH, post(add_checkpoint))
        .route(LATEST_CHECKPOINT_PATH, get(latest_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(witness)
}

/// Opens the witness from `config` and serves [`router`] on `listener` until
/// the listener fails.
///
/// # Errors
/// [`WitnessError`] if the witness cannot be opened or serving fails.
pub async fn serve(config: WitnessConfig, listener: tokio::net::TcpListener) -> Result<(), WitnessError> {
    let witness = Arc::new(Witness::open(config)?);
    tracing::info!(
        witness = witness.name(),
        verifier = %witness.verifier().to_key_string(),
        "witness serving"
    );
    axum::serve(listener, router(witness)).await.map_err(WitnessError::Serve)
}

/// Like [`serve`], stopping gracefully (finishing requests in flight) when
/// `shutdown` completes, for example on a signal.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_shutdown<F>(
    config: WitnessConfig,
    listener: tokio::net::TcpListener,
    shutdown: F,
) -> Result<(), WitnessError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let witness = Arc::new(Witness::open(config)?);
    tracing::info!(
        witness = witness.name(),
        verifier = %witness.verifier().to_key_string(),
        "witness serving"
    );
    axum::serve(listener, router(witness)).with_graceful_shutdown(shutdown).await.map_err(WitnessError::Serve)
}

#[derive(Debug, serde::Deserialize)]
struct LatestQuery {
    origin: String,
}

/// The checkpoint last cosigned for `origin`, cosignature included (public:
/// a checkpoint holds sizes and hashes only); 404 if none.
async fn latest_checkpoint(State(witness): State<Arc<Witness>>, Query(q): Query<LatestQuery>) -> Response {
    match witness.latest(&q.origin) {
        Some(state) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], state.checkpoint).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no checkpoint cosigned for this origin\n").into_response(),
    }
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // The check-and-persist holds a lock and fsyncs: keep it off the async
    // workers.
    let result = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now)).await;
    match result {
        Ok(Ok(lines)) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], lines).into_response(),
        Ok(Err(AddCheckpointError::Conflict { latest })) => {
            (StatusCode::CONFLICT, [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)], format!("{latest}\n")).into_response()
        }
        Ok(Err(e)) => {
            if let AddCheckpointError::Storage(source) = &e {
                tracing::error!(error = %source, "could not persist witness state");
            } else {
                tracing::debug!(error = %e, "refused add-checkpoint");
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{e}\n")).into_response()
        }
        Err(join) => {
            tracing::error!(error = %join, "add-checkpoint task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
