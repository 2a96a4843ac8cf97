//! Form bodies for pages, and the page a browser gets when one cannot be
//! used.
//!
//! axum's `Form` answers a body it cannot read in plain English text
//! (quoting serde's message, which may repeat a value from the form); the
//! API's problem JSON is no better for a person at a browser. A page's form
//! error is a page: in the reader's language, with the status kept (400,
//! 413, 415, 422), a fixed message that never quotes the request, and a way
//! back.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::Frame;
use super::i18n::Lang;
use crate::error::AppError;

#[derive(Debug, Template, WebTemplate)]
#[template(path = "form_error.html")]
pub struct FormErrorPage {
    f: Frame,
    message: &'static str,
}

/// The error page for a form the server could not use, with `status`.
pub fn error_page(lang: Lang, status: StatusCode) -> Response {
    let t = lang.t();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => t.form_too_large,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => t.form_wrong_type,
        _ => t.form_unreadable,
    };
    (status, FormErrorPage { f: Frame::new(lang, None), message }).into_response()
}

/// A page's answer to an error met while reading its form: the request's
/// own faults (400, 413, 415) as the error page; anything else (a 404, a
/// 5xx) as it always answers.
pub fn page_error(lang: Lang, e: AppError) -> Response {
    match e {
        AppError::BadRequest(_) => error_page(lang, StatusCode::BAD_REQUEST),
        AppError::PayloadTooLarge => error_page(lang, StatusCode::PAYLOAD_TOO_LARGE),
        AppError::UnsupportedMediaType(_) => error_page(lang, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        other => other.into_response(),
    }
}

/// An `application/x-www-form-urlencoded` body posted by one of homeward's
/// pages. A body that does not parse answers [`error_page`] with axum's
/// status for it (415 not a form, 413 too large, 400 or 422 fields that do
/// not fit).
#[derive(Debug, Clone)]
pub struct UiForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for UiForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_headers(req.headers());
        match Form::<T>::from_request(req, state).await {
            Ok(Form(v)) => Ok(Self(v)),
            Err(e) => Err(error_page(lang, e.status())),
        }
    }
}
