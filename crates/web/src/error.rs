//! One error type for every handler, answered as RFC 9457 problem details
//! (`application/problem+json`).
//!
//! A 4xx carries a stable, fixed message that never quotes the request (the
//! request may hold a name or a password). A 5xx carries a generic message;
//! its detail is logged once, here, and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use homeward_store::StoreError;
use serde_json::json;

/// Seconds a client is asked to wait before retrying a 503.
pub(crate) const RETRY_UNAVAILABLE_AFTER: u64 = 5;

#[derive(Debug)]
pub enum AppError {
    /// No valid session or token. Pages redirect to the login form; the API answers 401.
    Unauthenticated { page: bool },
    /// Not there, or not for this caller: the two look the same on purpose,
    /// so that a role cannot learn what exists beyond what it may see.
    NotFound,
    /// A cross-site state-changing request.
    CrossSite,
    /// Too many attempts; try again after this many seconds.
    TooManyRequests { retry_after: u64 },
    /// The request is malformed; the message is fixed text naming the field.
    BadRequest(&'static str),
    /// The body is larger than the route accepts.
    PayloadTooLarge,
    /// The body is not of a media type the route accepts.
    UnsupportedMediaType(&'static str),
    /// It clashes with what exists (a record id taken, no conflict set up).
    /// The message names fields and rules, never personal values.
    Conflict(String),
    /// Well-formed but refused by a rule: invalid fields (named, never
    /// quoted) or an illegal status transition (with the reason).
    Unprocessable { detail: String, errors: Vec<homeward_domain::FieldError> },
    /// The request was understood and the caller is known, but not allowed.
    Forbidden(&'static str),
    /// Not ready yet (the registry index while the server loads it); the
    /// message is fixed text.
    Unavailable(&'static str),
    /// Anything else: logged with its detail, answered generically.
    Internal(String),
}

impl From<StoreError> for AppError {
    /// Store errors that are about the request become 4xx with the store's
    /// message, which names fields, party codes and statuses only (see
    /// `StoreError`); the rest are internal.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Transition(t) => AppError::Unprocessable { detail: t.to_string(), errors: Vec::new() },
            StoreError::UnknownParty { field, .. } => AppError::Unprocessable {
                detail: format!("{field}: not one of the conflict's parties"),
                errors: vec![homeward_domain::FieldError::new(field, "not one of the conflict's parties")],
            },
            StoreError::NoConflict => AppError::Conflict(e.to_string()),
            StoreError::Refused(r) => AppError::Conflict(r.to_string()),
            StoreError::NotFound(_) => AppError::NotFound,
            StoreError::Unavailable(what) => AppError::Unavailable(what),
            other => AppError::Internal(format!("store: {other}")),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("blocking task: {e}"))
    }
}

/// A problem-details response.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    problem_with(status, detail, serde_json::Map::new())
}

/// A problem-details response with extension members (RFC 9457 section 3.2).
pub fn problem_with(
    status: StatusCode,
    detail: &str,
    extensions: serde_json::Map<String, serde_json::Value>,
) -> Response {
    let mut body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let Some(map) = body.as_object_mut() {
        map.extend(extensions);
    }
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Unauthenticated { page: true } => Redirect::to("/login").into_response(),
            AppError::Unauthenticated { page: false } => {
                let mut r =
                    problem(StatusCode::UNAUTHORIZED, "log in, or send an API token as `Authorization: Bearer`");
                r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                r
            }
            AppError::NotFound => problem(StatusCode::NOT_FOUND, "there is nothing here"),
            AppError::CrossSite => problem(
                StatusCode::FORBIDDEN,
                "cross-site request refused: state-changing requests must come from homeward's own pages",
            ),
            AppError::TooManyRequests { retry_after } => {
                let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "too many attempts; try again later");
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
                r
            }
            AppError::BadRequest(msg) => problem(StatusCode::BAD_REQUEST, msg),
            AppError::PayloadTooLarge => {
                problem(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than this endpoint accepts")
            }
            AppError::UnsupportedMediaType(msg) => problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, msg),
            AppError::Conflict(msg) => problem(StatusCode::CONFLICT, &msg),
            AppError::Forbidden(msg) => problem(StatusCode::FORBIDDEN, msg),
            AppError::Unprocessable { detail, errors } => {
                let mut ext = serde_json::Map::new();
                if !errors.is_empty() {
                    ext.insert("errors".into(), json!(errors));
                }
                problem_with(StatusCode::UNPROCESSABLE_ENTITY, &detail, ext)
            }
            AppError::Unavailable(what) => {
                let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, &StoreError::Unavailable(what).to_string());
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_UNAVAILABLE_AFTER));
                r
            }
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}
