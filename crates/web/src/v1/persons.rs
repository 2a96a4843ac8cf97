//! `/api/v1/persons`: list, read, register, report a status. Each handler
//! takes a capability extractor and makes one registry call; who sees what
//! is decided in `homeward_service::registry`, not here.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_domain::{PartyCode, PersonId, Status};
use homeward_store::{Page, PersonFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiJson, ApiQuery, PersonIdPath};
use super::model::{
    Created, PersonLine, PersonOut, PersonPage, PersonStatusOut, Problem, RegisterPerson, StatusIn, StatusOut,
};
use crate::AppState;
use crate::auth::capabilities::{CanRead, CanRegister, CanReport};
use crate::error::AppError;

/// Largest JSON body a person route accepts.
pub const MAX_JSON_BODY: usize = 64 * 1024;

const DEFAULT_LIMIT: u32 = 50;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Start after this person id (the previous page's `next_after`).
    #[param(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    after: Option<String>,
    /// Page size, 1-1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only persons with this status.
    status: Option<String>,
    /// Only persons depending on this party.
    power: Option<String>,
    /// Only persons registered by this party.
    source: Option<String>,
}

fn parse_list(p: ListParams) -> Result<(PersonFilter, Page), AppError> {
    let after = p
        .after
        .map(|a| a.parse::<PersonId>())
        .transpose()
        .map_err(|_| AppError::BadRequest("after: not a person id"))?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=Page::MAX_LIMIT).contains(&limit) {
        return Err(AppError::BadRequest("limit: must be 1-1000"));
    }
    let status = p
        .status
        .map(|s| s.parse::<Status>())
        .transpose()
        .map_err(|_| AppError::BadRequest("status: unknown status"))?;
    let party =
        |v: Option<String>, msg| v.map(|s| PartyCode::parse(&s)).transpose().map_err(|_| AppError::BadRequest(msg));
    let power = party(p.power, "power: not a party code")?;
    let source = party(p.source, "source: not a party code")?;
    Ok((PersonFilter { status, power, source }, Page { after, limit }))
}

/// The persons the caller may see, a page at a time.
#[utoipa::path(get, path = "/api/v1/persons", tag = "registry", params(ListParams),
    responses(
        (status = 200, body = PersonPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "the caller's role reads no persons"),
    ))]
pub async fn list(
    can: CanRead,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<PersonPage>, AppError> {
    let (filter, page) = parse_list(params)?;
    let rows = state.registry.list(&can.reader, &filter, &page, &can.accessor("GET /api/v1/persons")).await?;
    let next_after = (rows.len() == page.limit as usize).then(|| rows.last().map(|r| r.id.to_string())).flatten();
    Ok(Json(PersonPage { items: rows.into_iter().map(PersonLine::from).collect(), next_after }))
}

/// A person's record: every source's identity versions and the timeline.
/// An unknown id and a person the caller may not see answer the same 404.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "registry",
    params(("id" = String, Path, description = "the person's id (UUID)", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 200, body = PersonOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(
    can: CanRead,
    State(state): State<AppState>,
    PersonIdPath(id): PersonIdPath,
) -> Result<Response, AppError> {
    let record = state
        .registry
        .person(&can.reader, id, &can.accessor("GET /api/v1/persons/{id}"))
        .await?
        .ok_or(AppError::NotFound)?;
    // Personal data: not for shared caches.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(PersonOut::from(record))).into_response())
}

/// A person's current status: since when, and the latest event. The light
/// read for programs that poll: one indexed query and one access-log entry
/// (endpoint `GET /api/v1/persons/{id}/status`), with the same visibility
/// rule as the whole record: a person the caller may not see answers 404.
#[utoipa::path(get, path = "/api/v1/persons/{id}/status", tag = "registry",
    params(("id" = String, Path, description = "the person's id (UUID)", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 200, body = PersonStatusOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn status(
    can: CanRead,
    State(state): State<AppState>,
    PersonIdPath(id): PersonIdPath,
) -> Result<Response, AppError> {
    let status = state
        .registry
        .status(&can.reader, id, &can.accessor("GET /api/v1/persons/{id}/status"))
        .await?
        .ok_or(AppError::NotFound)?;
    // About a person: not for shared caches.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(PersonStatusOut::from(status))).into_response())
}

/// Registers a person as the caller's party (party officers).
#[utoipa::path(post, path = "/api/v1/persons", tag = "registry", request_body = RegisterPerson,
    responses(
        (status = 201, body = Created),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "cross-site request"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "the caller's role registers no persons"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "the record id is taken, or no conflict is set up"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "invalid fields, or a first status a record cannot start with"),
    ))]
pub async fn register(
    can: CanRegister,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterPerson>,
) -> Result<Response, AppError> {
    let identity = body.identity.parse();
    let status = body.status.parse();
    let (identity, status) = match (identity, status) {
        (Ok(i), Ok(s)) => (i, s),
        (i, s) => {
            let mut errors = i.err().unwrap_or_default();
            errors.extend(s.err().unwrap_or_default().into_iter().map(|mut e| {
                e.field = format!("status.{}", e.field);
                e
            }));
            return Err(AppError::Unprocessable { detail: "some fields are invalid".into(), errors });
        }
    };
    let id =
        state.registry.register(&can.registrar, &body.record_id, identity, status).await.map_err(registry_error)?;
    tracing::info!(person.id = %id, user.id = %can.user.user.id, "person registered");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/persons/{id}"))],
        Json(Created { id: id.to_string() }),
    )
        .into_response())
}

/// Appends a status event, reported by the caller's party. An illegal
/// transition is 422 with the reason.
#[utoipa::path(post, path = "/api/v1/persons/{id}/status", tag = "registry", request_body = StatusIn,
    params(("id" = String, Path, description = "the person's id (UUID)", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 201, body = StatusOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "cross-site request"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "invalid fields or an illegal transition"),
    ))]
pub async fn add_status(
    can: CanReport,
    State(state): State<AppState>,
    PersonIdPath(id): PersonIdPath,
    ApiJson(body): ApiJson<StatusIn>,
) -> Result<Response, AppError> {
    let event =
        body.parse().map_err(|errors| AppError::Unprocessable { detail: "some fields are invalid".into(), errors })?;
    let record = state.registry.report_status(&can.reporter, id, event).await.map_err(registry_error)?;
    tracing::info!(person.id = %id, seq = record.seq, user.id = %can.user.user.id, "status reported");
    Ok((StatusCode::CREATED, Json(StatusOut::from(record))).into_response())
}

pub(crate) fn registry_error(e: homeward_service::registry::RegistryError) -> AppError {
    use homeward_service::registry::RegistryError;
    match e {
        RegistryError::NotFound => AppError::NotFound,
        RegistryError::Invalid(f) => AppError::Unprocessable { detail: f.to_string(), errors: vec![f] },
        RegistryError::Store(s) => s.into(),
    }
}
