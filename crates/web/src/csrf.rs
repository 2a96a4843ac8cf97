//! Cross-site request forgery protection for every state-changing request,
//! by the browser's own word about where a request comes from: the approach
//! of Go 1.25's `http.CrossOriginProtection`, with no token to forget in a form.
//!
//! - GET, HEAD and OPTIONS pass: they change nothing (a rule every handler keeps).
//! - `Sec-Fetch-Site: same-origin` or `none` (typed in the address bar)
//!   passes; any other value (`cross-site`, `same-site`) is refused. Every
//!   browser in use sends this header.
//! - Without it (older browsers), an `Origin` header must name this host.
//! - With neither, the request does not come from a browser (a program with
//!   an API token), so there is no ambient cookie for a forger to ride.
//!
//! The session cookie is also `SameSite=Strict`, a second wall for the same threat.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub async fn protect(request: Request, next: Next) -> Response {
    if is_allowed(request.method(), request.headers()) {
        next.run(request).await
    } else {
        // The route template, never the path: a path may hold ids, and an
        // unmatched one anything a user or a forger typed (docs/LOGGING.md).
        let route = request.extensions().get::<axum::extract::MatchedPath>().map_or("(unmatched)", |m| m.as_str());
        tracing::info!(method = %request.method(), route, "cross-site request refused");
        AppError::CrossSite.into_response()
    }
}

fn is_allowed(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_browser_says_where_a_request_comes_from() {
        let post = Method::POST;
        assert!(is_allowed(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_allowed(&post, &headers(&[("sec-fetch-site", "same-origin")])));
        assert!(is_allowed(&post, &headers(&[("sec-fetch-site", "none")])));
        assert!(!is_allowed(&post, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!is_allowed(&post, &headers(&[("sec-fetch-site", "same-site")])));
        // The header wins over a matching Origin.
        let both = [("sec-fetch-site", "cross-site"), ("origin", "http://h:1"), ("host", "h:1")];
        assert!(!is_allowed(&post, &headers(&both)));
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_be_this_host() {
        let post = Method::POST;
        assert!(is_allowed(&post, &headers(&[("origin", "http://h:1"), ("host", "h:1")])));
        assert!(!is_allowed(&post, &headers(&[("origin", "http://evil:1"), ("host", "h:1")])));
        assert!(!is_allowed(&post, &headers(&[("origin", "null"), ("host", "h:1")])));
        assert!(!is_allowed(&Method::DELETE, &headers(&[("origin", "https://h:2"), ("host", "h:1")])));
        assert!(is_allowed(&post, &headers(&[("host", "h:1")])), "not a browser: no cookie to ride");
    }
}
