//! `GET /api/v1/conflict`: the parties, the mediator and the handover
//! points. No personal data; any logged-in caller may read it.

use axum::Json;
use axum::extract::State;

use super::model::{ConflictOut, HandoverPointOut, PartyOut, Problem};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;

#[utoipa::path(get, path = "/api/v1/conflict", tag = "registry",
    responses(
        (status = 200, body = ConflictOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no conflict is set up yet"),
    ))]
pub async fn show(_: CurrentUser, State(state): State<AppState>) -> Result<Json<ConflictOut>, AppError> {
    let setup = state.store.conflict().await?.ok_or(AppError::NotFound)?;
    Ok(Json(ConflictOut {
        name: setup.name,
        parties: setup
            .parties
            .into_iter()
            .map(|p| PartyOut { code: p.code.to_string(), name: p.name, kind: p.kind.as_str().to_owned() })
            .collect(),
        handover_points: setup
            .handover_points
            .into_iter()
            .map(|h| HandoverPointOut { code: h.code, name: h.name, country: h.country })
            .collect(),
    }))
}
