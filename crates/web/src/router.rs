//! Every route of the server, in one place.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde_json::json;
use tower_http::trace::TraceLayer;

use crate::auth::login;
use crate::error::AppError;
use crate::{AppState, api, csrf, log, pages, ui, v1};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/version", get(version))
        .route("/static/homeward.css", get(pages::stylesheet))
        // Accounts: the login form, logout, each role's home page.
        .route("/login", get(pages::login_form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/home", get(pages::home))
        // The API: any caller (`/me`), the administrator only (`/users`).
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/users", get(api::users))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/openapi.json", get(v1::openapi::serve))
        // Pages: the registry, a person, the CSV import, the public log, the language menu.
        .route("/static/htmx.min.js", get(ui::htmx))
        .route("/registry", get(ui::registry).post(ui::registry_search))
        .route("/registry/{id}", get(ui::person))
        .route(
            "/import",
            get(ui::import_form)
                .post(ui::import_upload)
                .layer(DefaultBodyLimit::max(v1::imports::MAX_UPLOAD + 64 * 1024)),
        )
        .route("/import/{id}", get(ui::import_job))
        .route("/import/{id}/progress", get(ui::import_job_progress))
        .route("/public/log", get(ui::public_log))
        .route("/tracing", get(ui::requests::list).post(ui::requests::file))
        .route("/tracing/{id}", get(ui::requests::show))
        .route("/tracing/{id}/decide", post(ui::requests::decide))
        .route("/search", get(ui::requests::search_form).post(ui::requests::search))
        .route("/language", post(ui::set_language))
        // The registry: capabilities decide who sees and changes what (homeward_service::registry).
        .route(
            "/api/v1/persons",
            get(v1::persons::list).post(v1::persons::register).layer(DefaultBodyLimit::max(v1::persons::MAX_JSON_BODY)),
        )
        .route("/api/v1/persons/{id}", get(v1::persons::show))
        .route(
            "/api/v1/persons/{id}/status",
            get(v1::persons::status)
                .post(v1::persons::add_status)
                .layer(DefaultBodyLimit::max(v1::persons::MAX_JSON_BODY)),
        )
        .route("/api/v1/conflict", get(v1::conflict::show))
        // The body is streamed to a spool file; the handler enforces its own limits.
        .route("/api/v1/imports/persons", post(v1::imports::persons))
        .route("/api/v1/imports/{id}", get(v1::imports::job))
        .route("/api/v1/access-log", get(v1::access_log::list))
        // Matching: the live registry index (homeward_service::matching).
        // Tracing requests (homeward_service::requests).
        .route(
            "/api/v1/tracing-requests",
            get(v1::requests::list).post(v1::requests::file).layer(DefaultBodyLimit::max(v1::requests::MAX_JSON_BODY)),
        )
        .route("/api/v1/tracing-requests/{id}", get(v1::requests::show))
        .route(
            "/api/v1/tracing-requests/{id}/decisions",
            post(v1::requests::decide).layer(DefaultBodyLimit::max(v1::requests::MAX_JSON_BODY)),
        )
        .route(
            "/api/v1/tracing-requests/{id}/desk",
            post(v1::requests::reassign).layer(DefaultBodyLimit::max(v1::requests::MAX_JSON_BODY)),
        )
        .route("/api/v1/search", post(v1::search::search).layer(DefaultBodyLimit::max(v1::search::MAX_JSON_BODY)))
        .route("/log/checkpoint", get(log::checkpoint))
        .route("/log/tile/{*rest}", get(log::tile))
        .route("/api/v1/log/proof/inclusion", get(log::inclusion))
        .route("/api/v1/log/proof/consistency", get(log::consistency))
        .route("/api/v1/log/public-key", get(log::public_key))
        .fallback(not_found)
        .layer(middleware::from_fn(csrf::protect))
        .layer({
            // The one setting the headers need, copied in: no state to clone per answer.
            let hsts = state.hsts;
            middleware::from_fn(move |request, next| security_headers(hsts, request, next))
        })
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of one request: its method and the route it matched, never the
/// URI itself. Query strings carry search terms (names), and an unmatched path
/// may be anything a user typed (docs/LOGGING.md). Handlers add `person.id`.
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or("(unmatched)", |m| m.as_str());
    tracing::debug_span!("request", method = %request.method(), route = %route)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Headers every answer carries: no framing (clickjacking), no MIME sniffing,
/// no referrer leaving the site, scripts and styles from homeward only, and
/// no caching unless the handler chose otherwise.
async fn security_headers(hsts: bool, request: axum::extract::Request, next: middleware::Next) -> Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // `no-store` by default, for every answer: almost every answer is about
    // someone (a record, a listing, a user list, who is logged in, a 404 that
    // says what a role may not see), and a handler that forgets the header
    // must not make a shared proxy or the browser's disk keep it. Only what
    // is public and the same for everyone opts in to caching by setting its
    // own header: the stylesheet, the htmx script, full log tiles.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    );
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // Behind HTTPS (`hsts = true`): browsers keep to HTTPS for a year, so a
    // network attacker cannot strip TLS from a later visit (a login, a
    // tracing request). No `includeSubDomains`: other hosts of the domain
    // are not homeward's to promise.
    if hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

async fn index() -> impl IntoResponse {
    (
        [("content-type", "text/plain; charset=utf-8")],
        "homeward\n\n\
         GET /healthz        liveness\n\
         GET /readyz         readiness (the database answers, the log is published)\n\
         GET /version        version and storage backend\n\
         GET /api/v1/stats   persons per status (counts only)\n\
         GET /log/checkpoint the shared log's latest signed checkpoint (C2SP tlog-checkpoint)\n\
         GET /log/tile/...   its hash tiles and entry bundles (C2SP tlog-tiles)\n\
         GET /api/v1/log/proof/inclusion?index=I&size=N, /api/v1/log/proof/consistency?old=M&new=N\n\
         GET /api/v1/log/public-key   the log's verifier key\n\
         GET /login          log in (a browser form)\n\
         GET /api/v1/me      who you are (session or `Authorization: Bearer` API token)\n\
         GET /api/v1/openapi.json  every API route: persons, imports, search, tracing requests\n",
    )
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and the log is being published: load balancers
/// send traffic only then, and monitoring pages someone when not. A log
/// whose checkpoints the required witnesses refuse (or whose sequencer met
/// an entry homeward did not write) is not ready: writes are kept, but
/// nothing new is vouched for until an operator acts.
async fn readyz(State(state): State<AppState>) -> Response {
    if let Some(blocked) = state.publication.blocked() {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("log not published: {}\n", blocked.reason)).into_response();
    }
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn version(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "name": "homeward",
        "version": env!("CARGO_PKG_VERSION"),
        "storage": state.store.backend(),
    }))
}

/// Counts per status: no names, no ids, nothing that identifies a person.
async fn stats(State(state): State<AppState>) -> Response {
    match state.store.status_counts().await {
        Ok(counts) => {
            let by_status: serde_json::Map<String, serde_json::Value> =
                counts.into_iter().map(|(s, n)| (s.as_str().to_owned(), json!(n))).collect();
            let total: u64 = by_status.values().filter_map(serde_json::Value::as_u64).sum();
            Json(json!({ "persons": total, "by_status": by_status })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "status counts failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
