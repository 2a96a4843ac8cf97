//! Server-rendered pages: the login form and a home page per role.
//! Templates are checked at compile time and escape what they print.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::header;
use axum::response::IntoResponse;
use homeward_domain::Role;

use axum::extract::State;

use crate::AppState;
use crate::auth::CurrentUser;

#[derive(Debug, Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// The username typed, echoed back (escaped) after a failed attempt.
    pub username: String,
    pub error: Option<&'static str>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    username: String,
    role_label: String,
    title: &'static str,
    summary: &'static str,
    items: Vec<&'static str>,
    /// The pages this role may open (the same capabilities the pages check).
    links: Vec<(&'static str, &'static str)>,
    /// For the mediator and the administrator: why the shared log is not
    /// being published, when it is not (witnesses refusing, an entry
    /// homeward did not write). Names witnesses and sizes, never records.
    log_alert: Option<String>,
}

pub async fn login_form() -> LoginPage {
    LoginPage { username: String::new(), error: None }
}

/// Each role's home: what it sees and does (DESIGN.md, "Actors and roles").
pub async fn home(State(state): State<AppState>, user: CurrentUser) -> impl IntoResponse {
    let (title, summary, items): (&str, &str, Vec<&str>) = match &user.role {
        Role::Mediator => (
            "Mediator",
            "You see every record, match and reconcile, countersign lists and publish communiqués.",
            vec!["Registry: every person and status", "Matching and reconciliation", "Exchanges and communiqués"],
        ),
        Role::PartyOfficer { .. } => (
            "Information bureau",
            "You see the people your party holds, your own people held by the other side, and your missing.",
            vec!["Register captures, transfers, health and deaths", "Report your missing", "Propose and sign lists"],
        ),
        Role::Caseworker { .. } => (
            "Caseworker",
            "You see the tracing requests assigned to your desk and their candidates.",
            vec!["Review candidates", "Confirm or reject links", "Answer families"],
        ),
        Role::Family => (
            "Family",
            "You see your own tracing requests and the status disclosed to you.",
            vec!["File a tracing request", "Read the status of your request", "Exchange short messages"],
        ),
        Role::Auditor => (
            "Auditor",
            "You see the public log: checkpoints, proofs and communiqués. No personal data.",
            vec!["Latest checkpoint", "Consistency and inclusion proofs", "Communiqués"],
        ),
        Role::Admin => (
            "Administrator",
            "You run the deployment: users, keys and backups. No case data.",
            vec!["Users and API tokens", "Keys", "Backups"],
        ),
    };
    let mut links = Vec::new();
    if homeward_service::registry::Reader::for_role(&user.role).is_some() {
        links.push(("/registry", "Registry"));
    }
    if homeward_service::registry::Registrar::for_role(&user.role).is_some() {
        links.push(("/import", "Import a CSV file"));
    }
    if homeward_service::registry::Searcher::for_role(&user.role).is_some() {
        links.push(("/search", "Search the registry"));
    }
    if homeward_service::requests::TracingAccess::for_role(&user.role, user.user.id).is_some() {
        links.push(("/tracing", "Tracing requests"));
    }
    links.push(("/public/log", "The shared log"));
    let log_alert = match user.role {
        Role::Mediator | Role::Admin => state.publication.blocked().map(|b| {
            let since = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(b.since_ms) * 1_000_000)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default();
            format!("The shared log is not being published since {since}: {}.", b.reason)
        }),
        _ => None,
    };
    let page = HomePage {
        username: user.user.username.to_string(),
        role_label: user.role.to_string(),
        title,
        summary,
        items,
        links,
        log_alert,
    };
    // A page with a user's name on it is not for shared caches or the back button after logout.
    ([(header::CACHE_CONTROL, "no-store")], page)
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/homeward.css"),
    )
}
