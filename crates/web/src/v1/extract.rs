//! Extractors whose every failure is a 4xx problem with a fixed message:
//! axum's own rejections answer plain text and quote serde's messages,
//! which may repeat a value from the request ("invalid type: string
//! \"Коваленко\""). Nothing from the request is echoed here.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use homeward_domain::PersonId;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body: 415 without a JSON content type, 413 over the route's
/// limit, 400 when it is not JSON (or not UTF-8), 422 when it does not
/// match the schema (unknown fields included).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => Err(json_rejection(&e)),
        }
    }
}

fn json_rejection(e: &JsonRejection) -> AppError {
    match e {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::UnsupportedMediaType("send the body as JSON with `Content-Type: application/json`")
        }
        JsonRejection::JsonDataError(_) => AppError::Unprocessable {
            detail: "the body does not match the schema: a field is unknown, missing or of the wrong type \
                     (see /api/v1/openapi.json)"
                .into(),
            errors: Vec::new(),
        },
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest("the body is not valid JSON in UTF-8"),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        _ => AppError::BadRequest("the body could not be read"),
    }
}

/// Query parameters: 400 with a fixed message when they do not parse.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(_)) | Err(_) => Err(AppError::BadRequest(
                "the query parameters do not parse: one is unknown or of the wrong type (see /api/v1/openapi.json)",
            )),
        }
    }
}

/// A person id in the path: 400 when it is not a UUID.
#[derive(Debug, Clone, Copy)]
pub struct PersonIdPath(pub PersonId);

impl<S: Send + Sync> FromRequestParts<S> for PersonIdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::BadRequest("the person id in the path is not a UUID"))?;
        raw.parse().map(Self).map_err(|_| AppError::BadRequest("the person id in the path is not a UUID"))
    }
}
