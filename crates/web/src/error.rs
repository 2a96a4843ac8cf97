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
    /// Anything else: logged with its detail, answered generically.
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Internal(format!("store: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("blocking task: {e}"))
    }
}

/// A problem-details response.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
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
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}
