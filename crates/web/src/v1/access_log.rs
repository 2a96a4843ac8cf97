//! `GET /api/v1/access-log`: who read which person's record, for the mediator.

use axum::Json;
use axum::extract::State;
use homeward_domain::PersonId;
use homeward_store::AccessQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::ApiQuery;
use super::model::{AccessOut, AccessPage, Problem, rfc3339};
use crate::AppState;
use crate::auth::roles::Mediator;
use crate::error::AppError;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessParams {
    /// Entries older than this sequence number (the previous page's `next_before`).
    before: Option<i64>,
    /// Only reads of this person.
    #[param(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    person: Option<String>,
    /// Page size, 1-1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/access-log", tag = "registry", params(AccessParams),
    responses(
        (status = 200, body = AccessPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "not the mediator"),
    ))]
pub async fn list(
    _: Mediator,
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<AccessParams>,
) -> Result<Json<AccessPage>, AppError> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::BadRequest("limit: must be 1-1000"));
    }
    let person = p
        .person
        .map(|s| s.parse::<PersonId>())
        .transpose()
        .map_err(|_| AppError::BadRequest("person: not a person id"))?;
    // Every read answered so far is listed.
    state.registry.flush_access_log().await?;
    let rows = state.access.access_log(&AccessQuery { before: p.before, person, limit }).await?;
    let next_before = (rows.len() == limit as usize).then(|| rows.last().map(|r| r.seq)).flatten();
    Ok(Json(AccessPage {
        items: rows
            .into_iter()
            .map(|r| AccessOut {
                seq: r.seq,
                at: rfc3339(r.at),
                user: r.user.to_string(),
                username: r.username,
                role: r.role,
                person: r.person.to_string(),
                endpoint: r.endpoint,
                outcome: r.outcome.as_str().to_owned(),
            })
            .collect(),
        next_before,
    }))
}
