//! `POST /api/v1/imports/persons`: a CSV file as the body, imported as the
//! caller's party, all or nothing. The answer is the report: every rejected
//! row by line, field and reason (never the value).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::extract::ApiQuery;
use super::model::{ImportReportOut, Problem};
use crate::AppState;
use crate::auth::capabilities::CanRegister;
use crate::error::{AppError, problem_with};
use homeward_service::import::{ImportOptions, NoProgress, import_persons_from};
use serde::Deserialize;
use utoipa::IntoParams;

/// Largest CSV body accepted over HTTP; larger files go through `homeward import`.
pub const MAX_CSV_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Validate everything, write nothing.
    dry_run: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/imports/persons", tag = "registry", params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "the CSV file, UTF-8, with the documented header (docs/IMPORT.md)"),
    responses(
        (status = 200, body = ImportReportOut, description = "every row valid: committed (or, with dry_run, validated)"),
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
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let csv_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")));
    if !csv_type {
        return Err(AppError::UnsupportedMediaType("send the file with `Content-Type: text/csv`"));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest("the body could not be read")
        }
    })?;
    let report = import(&state, &can, body, params.dry_run.unwrap_or(false)).await?;
    tracing::info!(user.id = %can.user.user.id, rows = report.rows, committed = report.committed, "import over HTTP");
    Ok(answer(report))
}

/// Runs the import as the registrar's party; shared with the web page.
pub(crate) async fn import(
    state: &AppState,
    can: &CanRegister,
    body: Bytes,
    dry_run: bool,
) -> Result<ImportReportOut, AppError> {
    let mut options = ImportOptions::new(can.registrar.party().clone());
    options.only_own_source = true;
    options.dry_run = dry_run;
    let total = body.len() as u64;
    let report = import_persons_from(state.store.as_ref(), std::io::Cursor::new(body), total, &options, &NoProgress)
        .await
        .map_err(|e| match e {
            homeward_service::import::ImportError::Store(s) => AppError::from(s),
            other => AppError::Internal(other.to_string()),
        })?;
    Ok(report.into())
}

fn answer(report: ImportReportOut) -> Response {
    if report.rejections.is_empty() && report.fatal.is_none() {
        return (StatusCode::OK, axum::Json(report)).into_response();
    }
    let mut ext = serde_json::Map::new();
    ext.insert("report".into(), serde_json::to_value(&report).unwrap_or_default());
    problem_with(StatusCode::UNPROCESSABLE_ENTITY, "rows were rejected; nothing was written", ext)
}
