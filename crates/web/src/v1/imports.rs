//! `POST /api/v1/imports/persons`: a CSV file as the body, imported as the
//! caller's party, all or nothing. The body is spooled to a file in the data
//! folder and imported by a background job ([`crate::jobs`]). By default the
//! request waits and the answer is the report: every rejected row by line,
//! field and reason (never the value). With `Prefer: respond-async`
//! (RFC 7240) the answer is 202 with the job's `Location`, and
//! `GET /api/v1/imports/{id}` tells its state, progress and, at the end, the
//! report. Only the user who started a job, and the mediator, can see it.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_store::ImportJobId;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::ApiQuery;
use super::model::{ImportJobOut, ImportReportOut, Problem};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::capabilities::CanRegister;
use crate::error::{AppError, problem_with};

/// Largest CSV body answered synchronously; larger files go with
/// `Prefer: respond-async` or through `homeward import`.
pub const MAX_CSV_BODY: usize = 16 * 1024 * 1024;
/// Largest CSV body imported as a background job (web form, `respond-async`).
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Validate everything, write nothing.
    dry_run: Option<bool>,
}

/// `Prefer: respond-async` among the preferences (RFC 7240: comma-separated,
/// names case-insensitive, parameters after `;` or `=`).
fn prefers_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.split([';', '=']).next().is_some_and(|name| name.trim().eq_ignore_ascii_case("respond-async")))
}

#[utoipa::path(post, path = "/api/v1/imports/persons", tag = "registry", params(ImportParams,
        ("Prefer" = Option<String>, Header, description = "`respond-async`: answer 202 at once and import in the background (files up to 256 MiB)")),
    request_body(content = String, content_type = "text/csv", description = "the CSV file, UTF-8, with the documented header (docs/IMPORT.md)"),
    responses(
        (status = 200, body = ImportReportOut, description = "every row valid: committed (or, with dry_run, validated)"),
        (status = 202, body = ImportJobOut, description = "with `Prefer: respond-async`: the job is queued; follow `Location`",
            headers(("Location" = String, description = "/api/v1/imports/{id}"), ("Preference-Applied" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "cross-site request"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "the caller's role imports no persons"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "rows rejected: nothing written; the report is the `report` member"),
    ))]
pub async fn persons(
    can: CanRegister,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let csv_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")));
    if !csv_type {
        return Err(AppError::UnsupportedMediaType("send the file with `Content-Type: text/csv`"));
    }
    let asynchronous = prefers_async(&headers);
    let jobs = state.import_jobs.clone();
    let id = ImportJobId::new();
    let total = jobs.spool_body(id, body, if asynchronous { MAX_UPLOAD } else { MAX_CSV_BODY }).await?;
    let dry_run = params.dry_run.unwrap_or(false);
    let handle = jobs.start(state.store.clone(), id, &can, total, dry_run).await?;
    tracing::info!(user.id = %can.user.user.id, job.id = %id, asynchronous, "import over HTTP");
    if asynchronous {
        let job = jobs.visible(state.store.as_ref(), id, &can.user).await?;
        let location = HeaderValue::from_str(&format!("/api/v1/imports/{id}"))
            .map_err(|_| AppError::Internal("job location".into()))?;
        return Ok((
            StatusCode::ACCEPTED,
            [
                (header::LOCATION, location),
                (header::HeaderName::from_static("preference-applied"), HeaderValue::from_static("respond-async")),
            ],
            Json(job),
        )
            .into_response());
    }
    let job = handle.await.map_err(|e| AppError::Internal(format!("import job: {e}")))?;
    let job = job.ok_or_else(|| AppError::Internal("the import job recorded no outcome".into()))?;
    let job = jobs.visible(state.store.as_ref(), job.id, &can.user).await?;
    let report = job.report.ok_or_else(|| AppError::Internal("the import failed; nothing was stored".into()))?;
    Ok(answer(report))
}

/// A job id in the path: 400 when it is not a UUID.
#[derive(Debug, Clone, Copy)]
pub struct JobIdPath(pub ImportJobId);

impl<S: Send + Sync> FromRequestParts<S> for JobIdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::BadRequest("the import job id in the path is not a UUID"))?;
        raw.parse().map(Self).map_err(|_| AppError::BadRequest("the import job id in the path is not a UUID"))
    }
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "registry",
    params(("id" = String, Path, description = "the job id from `Location` (UUID)", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 200, body = ImportJobOut, description = "the job's state and progress; its report once it has ended"),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "the id is not a UUID"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such job, or not the caller's (only its starter and the mediator see a job)"),
    ))]
pub async fn job(
    user: CurrentUser,
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
) -> Result<Response, AppError> {
    let job = state.import_jobs.visible(state.store.as_ref(), id, &user).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(job)).into_response())
}

fn answer(report: ImportReportOut) -> Response {
    if report.rejections.is_empty() && report.fatal.is_none() {
        return (StatusCode::OK, Json(report)).into_response();
    }
    let mut ext = serde_json::Map::new();
    ext.insert("report".into(), serde_json::to_value(&report).unwrap_or_default());
    problem_with(StatusCode::UNPROCESSABLE_ENTITY, "rows were rejected; nothing was written", ext)
}
