//! The public read side of the shared log: the signed checkpoint and C2SP
//! tlog-tiles (hash tiles and entry bundles) under `/log/`, so that standard
//! transparency-log clients can audit homeward without knowing it, and JSON
//! proofs under `/api/v1/log/`. Leaves hold ids and commitments only: all of
//! this is safe to publish.

use axum::Json;
use axum::extract::{Path, State};

use crate::v1::extract::ApiQuery;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_service::log as service;
use homeward_tlog::{Hash, TilePath, parse_tile_path};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;

/// The one problem-details shape (with its `type`), as the document describes it.
use crate::error::problem;

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "log read failed");
    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// The size of the latest published checkpoint: what clients may read up to.
async fn published_size(state: &AppState) -> Result<u64, Response> {
    match state.store.latest_checkpoint().await {
        Ok(Some(cp)) => Ok(cp.size),
        Ok(None) => Ok(0),
        Err(e) => Err(internal(e)),
    }
}

/// `GET /log/checkpoint`: the latest signed checkpoint (C2SP tlog-checkpoint).
pub async fn checkpoint(State(state): State<AppState>) -> Response {
    match state.store.latest_checkpoint().await {
        Ok(Some(cp)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            cp.note,
        )
            .into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "no checkpoint has been signed yet"),
        Err(e) => internal(e),
    }
}

/// `GET /log/tile/...`: hash tiles and entry bundles at the paths C2SP tlog-tiles gives.
pub async fn tile(State(state): State<AppState>, Path(rest): Path<String>) -> Response {
    let path = format!("tile/{rest}");
    let Ok(parsed) = parse_tile_path(&path) else {
        return problem(StatusCode::NOT_FOUND, "not a tile path");
    };
    let size = match published_size(&state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    // A tile is served up to the published size; a narrower partial tile is a
    // prefix of the wider one, so any width up to the published one is valid.
    let (data, full) = match parsed {
        TilePath::Hashes(t) => {
            let Some(published) = homeward_tlog::Tile::for_tree(t.level(), t.n(), size) else {
                return problem(StatusCode::NOT_FOUND, "tile beyond the published tree");
            };
            if t.width() > published.width() {
                return problem(StatusCode::NOT_FOUND, "tile beyond the published tree");
            }
            (service::tile_data(state.store.as_ref(), &t).await, t.is_full())
        }
        TilePath::Entries(b) => {
            let Some(published) = homeward_tlog::EntryBundle::for_tree(b.n(), size) else {
                return problem(StatusCode::NOT_FOUND, "entry bundle beyond the published tree");
            };
            if b.width() > published.width() {
                return problem(StatusCode::NOT_FOUND, "entry bundle beyond the published tree");
            }
            (service::entry_bundle_data(state.store.as_ref(), &b).await, b.width() == 256)
        }
    };
    match data {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
                // Full tiles never change; partial ones are replaced by wider ones.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(if full { "public, max-age=31536000, immutable" } else { "no-store" }),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    index: u64,
    /// Default: the latest checkpoint's size.
    size: Option<u64>,
}

fn hashes(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(Hash::to_base64).collect()
}

/// `GET /api/v1/log/proof/inclusion?index=I[&size=N]`
#[utoipa::path(get, path = "/api/v1/log/proof/inclusion", tag = "log", params(InclusionQuery), security(()),
    responses((status = 200, body = crate::v1::model::ProofOut), (status = 400, body = crate::v1::model::Problem, content_type = "application/problem+json")))]
pub async fn inclusion(State(state): State<AppState>, ApiQuery(q): ApiQuery<InclusionQuery>) -> Response {
    let published = match published_size(&state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let size = q.size.unwrap_or(published);
    if size > published || q.index >= size {
        return problem(StatusCode::BAD_REQUEST, "index must be below size, and size at most the published size");
    }
    match service::prove_inclusion(state.store.as_ref(), q.index, size).await {
        Ok(proof) => Json(json!({ "index": q.index, "size": size, "proof": hashes(&proof) })).into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    old: u64,
    /// Default: the latest checkpoint's size.
    new: Option<u64>,
}

/// `GET /api/v1/log/proof/consistency?old=M[&new=N]`
#[utoipa::path(get, path = "/api/v1/log/proof/consistency", tag = "log", params(ConsistencyQuery), security(()),
    responses((status = 200, body = crate::v1::model::ProofOut), (status = 400, body = crate::v1::model::Problem, content_type = "application/problem+json")))]
pub async fn consistency(State(state): State<AppState>, ApiQuery(q): ApiQuery<ConsistencyQuery>) -> Response {
    let published = match published_size(&state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let new = q.new.unwrap_or(published);
    if new > published || q.old > new {
        return problem(StatusCode::BAD_REQUEST, "old must be at most new, and new at most the published size");
    }
    match service::prove_consistency(state.store.as_ref(), q.old, new).await {
        Ok(proof) => Json(json!({ "old": q.old, "new": new, "proof": hashes(&proof) })).into_response(),
        Err(e) => internal(e),
    }
}

/// `GET /api/v1/log/public-key`: the log's verifier key, signed-note form.
#[utoipa::path(get, path = "/api/v1/log/public-key", tag = "log", security(()),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = crate::v1::model::Problem, content_type = "application/problem+json")))]
pub async fn public_key(State(state): State<AppState>) -> Response {
    match &state.log_key {
        Some(k) => {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], k.to_key_string() + "\n")
                .into_response()
        }
        None => problem(StatusCode::NOT_FOUND, "this server has no log key"),
    }
}
