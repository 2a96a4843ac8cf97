//! The server-rendered pages of the registry: the list with search and
//! filters, a person's page, the CSV import, the public log page, and the
//! language menu. Like the API, every page that shows persons takes a
//! capability extractor and calls `homeward_service::registry`, so the
//! same rule decides, and every read is in the access log.
//!
//! htmx (vendored, `/static/htmx.min.js`) only narrows the list as one
//! types; every page works without scripts.

pub mod form;
pub mod i18n;
pub mod requests;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use homeward_domain::{PartyCode, PersonId, Role, Status};
use homeward_store::{ImportJobId, Page, PersonFilter, PersonSummary};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::capabilities::{CanRead, CanRegister};
use crate::error::AppError;
use crate::v1::extract::{ApiQuery, PersonIdPath};
use crate::v1::imports::JobIdPath;
use crate::v1::model::{ImportJobOut, PersonOut};
use form::{UiForm, page_error};
use i18n::{Lang, Strings, with_latin};

/// What every page's frame needs: words, language, who is logged in.
#[derive(Debug)]
pub struct Frame {
    pub t: &'static Strings,
    pub lang: &'static str,
    pub langs: Vec<(&'static str, &'static str)>,
    pub username: Option<String>,
    pub can_read: bool,
    pub can_import: bool,
    pub can_trace: bool,
    pub can_search: bool,
}

impl Frame {
    pub(crate) fn new(lang: Lang, user: Option<&CurrentUser>) -> Self {
        let role = user.map(|u| &u.role);
        Self {
            t: lang.t(),
            lang: lang.code(),
            langs: Lang::ALL.iter().map(|l| (l.code(), l.native_name())).collect(),
            username: user.map(|u| u.user.username.to_string()),
            can_read: role.is_some_and(|r| homeward_service::registry::Reader::for_role(r).is_some()),
            can_import: role.is_some_and(|r| homeward_service::registry::Registrar::for_role(r).is_some()),
            can_trace: role.is_some_and(|r| matches!(r, Role::Family | Role::Caseworker { .. } | Role::Mediator)),
            can_search: role.is_some_and(|r| homeward_service::registry::Searcher::for_role(r).is_some()),
        }
    }
}

/// A name with its Latin form beside it.
#[derive(Debug)]
pub struct Name {
    pub written: String,
    pub latin: Option<String>,
}

impl Name {
    pub(crate) fn of(s: &str) -> Self {
        let (written, latin) = with_latin(s);
        Self { written, latin }
    }
}

#[derive(Debug)]
pub struct Row {
    pub id: String,
    pub name: Name,
    pub birth_date: String,
    pub status: &'static str,
    pub power: String,
    pub source: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "registry.html")]
pub struct RegistryPage {
    f: Frame,
    q: String,
    status: String,
    power: String,
    source: String,
    statuses: Vec<&'static str>,
    parties: Vec<String>,
    rows: Vec<Row>,
    next: Option<String>,
}

/// The registry's filter, as the page's form posts it: the name typed into
/// the search box never goes into a URL (browser history, proxy logs,
/// `Referer`), so the filter, and the next page's, travel in a POST body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    power: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    after: String,
}

/// Lower-case Latin skeleton for search: "Коваленко" and "Kovalenko" meet.
fn search_key(s: &str) -> String {
    let (_, latin) = with_latin(s);
    latin.unwrap_or_else(|| s.to_owned()).to_lowercase()
}

/// Rows scanned for a name search: the search looks through this many
/// visible persons (from `after`), not the whole registry.
const SEARCH_SCAN: u32 = 20_000;
const PAGE: u32 = 50;

/// No query parameters: `GET /registry` is the first page, unfiltered.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// `GET /registry`: the first page and the filter form. A query string (an
/// old bookmark with `?q=NAME`) is refused, not read: a filter comes by POST.
pub async fn registry(
    can: CanRead,
    lang: Lang,
    State(state): State<AppState>,
    query: Result<ApiQuery<NoQuery>, AppError>,
) -> Result<Response, AppError> {
    if let Err(e) = query {
        return Ok(page_error(lang, e));
    }
    registry_page(can, lang, &state, RegistryQuery::default(), "GET /registry").await
}

/// `POST /registry`: the page for the posted filter (the form, htmx as one
/// types, and the next page's button).
pub async fn registry_search(
    can: CanRead,
    lang: Lang,
    State(state): State<AppState>,
    UiForm(q): UiForm<RegistryQuery>,
) -> Result<Response, AppError> {
    // A filter value the page never offers (a status or party that does not
    // parse) answers the reader's-language error page, as a form that does
    // not parse does.
    match registry_page(can, lang, &state, q, "POST /registry").await {
        Err(e @ AppError::BadRequest(_)) => Ok(page_error(lang, e)),
        other => other,
    }
}

async fn registry_page(
    can: CanRead,
    lang: Lang,
    state: &AppState,
    q: RegistryQuery,
    endpoint: &'static str,
) -> Result<Response, AppError> {
    let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let bad = |_| AppError::BadRequest("a filter does not parse");
    let filter = PersonFilter {
        status: opt(&q.status).map(|s| s.parse::<Status>()).transpose().map_err(|_| AppError::BadRequest("status"))?,
        power: opt(&q.power).map(|s| PartyCode::parse(&s)).transpose().map_err(bad)?,
        source: opt(&q.source).map(|s| PartyCode::parse(&s)).transpose().map_err(bad)?,
    };
    let after = opt(&q.after).map(|s| s.parse::<PersonId>()).transpose().map_err(|_| AppError::BadRequest("after"))?;
    let needle = opt(&q.q).map(|s| search_key(&s));
    // The name filter runs here, over the rows the store returns: the
    // registry reads on until a page of matches is found (or the scan
    // budget is spent), and only the rows shown are written to the access
    // log (issue 20, finding 9: a search that showed 10 rows had logged the
    // 1,000 it scanned).
    let keep = |r: &PersonSummary| {
        needle.as_ref().is_none_or(|n| search_key(&format!("{} {}", r.family_name, r.given_names)).contains(n))
    };
    let scan = if needle.is_some() { SEARCH_SCAN } else { PAGE };
    let (found, next) = state
        .registry
        .list_where(&can.reader, &filter, &Page { after, limit: PAGE }, scan, keep, &can.accessor(endpoint))
        .await?;
    let next = next.map(|id| id.to_string());
    let rows = found
        .into_iter()
        .map(|r| Row {
            id: r.id.to_string(),
            name: Name::of(&format!("{} {}", r.family_name, r.given_names)),
            birth_date: r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            status: r.status.as_str(),
            power: r.power.to_string(),
            source: r.source.source.to_string(),
        })
        .collect();
    let parties = state
        .store
        .conflict()
        .await?
        .map(|s| s.parties.into_iter().map(|p| p.code.to_string()).collect())
        .unwrap_or_default();
    let page = RegistryPage {
        f: Frame::new(lang, Some(&can.user)),
        q: q.q,
        status: q.status,
        power: q.power,
        source: q.source,
        statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
        parties,
        rows,
        next,
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

#[derive(Debug)]
pub struct IdentityView {
    pub source: String,
    pub record_id: String,
    pub version: u32,
    pub recorded_at: String,
    pub fields: Vec<(&'static str, Name)>,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "person.html")]
pub struct PersonPage {
    f: Frame,
    title: Name,
    person: PersonOut,
    identities: Vec<IdentityView>,
}

pub async fn person(
    can: CanRead,
    lang: Lang,
    State(state): State<AppState>,
    PersonIdPath(id): PersonIdPath,
) -> Result<Response, AppError> {
    let record =
        state.registry.person(&can.reader, id, &can.accessor("GET /registry/{id}")).await?.ok_or(AppError::NotFound)?;
    let person = PersonOut::from(record);
    let identities: Vec<IdentityView> = person
        .identities
        .iter()
        .map(|v| {
            let i = &v.identity;
            let mut fields = vec![("family_name", Name::of(&i.family_name)), ("given_names", Name::of(&i.given_names))];
            let optional = [
                ("patronymic", &i.patronymic),
                ("mother_maiden_name", &i.mother_maiden_name),
                ("birth_date", &i.birth_date),
                ("place_of_birth", &i.place_of_birth),
                ("rank", &i.rank),
                ("service_number", &i.service_number),
                ("unit", &i.unit),
                ("person_to_inform", &i.person_to_inform),
                ("correspondence_address", &i.correspondence_address),
            ];
            fields.extend(optional.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, Name::of(v)))));
            fields.push(("power", Name::of(&i.power)));
            fields.push(("category", Name::of(&i.category)));
            IdentityView {
                source: v.source.clone(),
                record_id: v.record_id.clone(),
                version: v.version,
                recorded_at: v.recorded_at.clone(),
                fields,
            }
        })
        .collect();
    let title = person
        .identities
        .first()
        .map(|v| Name::of(&format!("{} {}", v.identity.family_name, v.identity.given_names)))
        .unwrap_or_else(|| Name::of(""));
    let page = PersonPage { f: Frame::new(lang, Some(&can.user)), title, person, identities };
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "import.html")]
pub struct ImportPage {
    f: Frame,
    error: Option<&'static str>,
}

pub async fn import_form(can: CanRegister, lang: Lang) -> ImportPage {
    ImportPage { f: Frame::new(lang, Some(&can.user)), error: None }
}

/// The form posts `multipart/form-data` with the file and the dry-run box.
/// The file is spooled as it arrives and imported by a background job; the
/// browser is sent to the job's page.
pub async fn import_upload(
    can: CanRegister,
    lang: Lang,
    State(state): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let frame = Frame::new(lang, Some(&can.user));
    let Ok(mut multipart) = multipart else {
        return Ok(form::error_page(lang, axum::http::StatusCode::BAD_REQUEST));
    };
    let jobs = state.import_jobs.clone();
    let id = ImportJobId::new();
    let (mut size, mut dry_run) = (None::<u64>, false);
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) => match field.name() {
                Some("file") if size.is_none() => {
                    match jobs.spool_field(id, &mut field, crate::v1::imports::MAX_UPLOAD).await {
                        Ok(n) => size = Some(n),
                        Err(e) => {
                            jobs.discard(id);
                            return Ok(page_error(lang, e.into()));
                        }
                    }
                }
                Some("dry_run") => dry_run = true,
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                jobs.discard(id);
                return Ok(page_error(lang, multipart_error(e.status())));
            }
        }
    }
    let Some(size) = size.filter(|s| *s > 0) else {
        jobs.discard(id);
        let page = ImportPage { f: frame, error: Some("choose a CSV file") };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    jobs.start(state.store.clone(), id, &can, size, dry_run).await?;
    tracing::info!(user.id = %can.user.user.id, job.id = %id, "import from the web form");
    Ok(Redirect::to(&format!("/import/{id}")).into_response())
}

/// A job as the page shows it.
#[derive(Debug)]
pub struct JobView {
    job: ImportJobOut,
    live: bool,
    /// Percent of the file read, 0-100.
    percent: u64,
}

impl JobView {
    fn of(job: ImportJobOut) -> Self {
        let live = matches!(job.state.as_str(), "queued" | "running");
        let percent = (job.bytes_read.saturating_mul(100)).checked_div(job.total_bytes).unwrap_or(0).min(100);
        Self { job, live, percent }
    }
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "import_job.html")]
pub struct ImportJobPage {
    f: Frame,
    v: JobView,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "import_job_status.html")]
pub struct ImportJobFragment {
    f: Frame,
    v: JobView,
}

/// The job's page: a progress bar while it runs (htmx swaps in
/// `/import/{id}/progress`; without scripts the page refreshes itself), then
/// the report. Its starter and the mediator see it; anyone else gets 404.
pub async fn import_job(
    user: CurrentUser,
    lang: Lang,
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
) -> Result<Response, AppError> {
    let job = state.import_jobs.visible(state.store.as_ref(), id, &user).await?;
    let page = ImportJobPage { f: Frame::new(lang, Some(&user)), v: JobView::of(job) };
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

/// The part of the job's page that changes, for htmx to poll.
pub async fn import_job_progress(
    user: CurrentUser,
    lang: Lang,
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
) -> Result<Response, AppError> {
    let job = state.import_jobs.visible(state.store.as_ref(), id, &user).await?;
    let page = ImportJobFragment { f: Frame::new(lang, Some(&user)), v: JobView::of(job) };
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

fn multipart_error(status: axum::http::StatusCode) -> AppError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest("the form could not be read")
    }
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "public_log.html")]
pub struct PublicLogPage {
    f: Frame,
    checkpoint: Option<String>,
    counts: Vec<(&'static str, u64)>,
}

/// Public: no login, no personal data (a checkpoint, counts).
pub async fn public_log(lang: Lang, State(state): State<AppState>) -> Result<PublicLogPage, AppError> {
    let checkpoint = state.store.latest_checkpoint().await?.map(|c| c.note);
    let counts = state.store.status_counts().await?.into_iter().map(|(s, n)| (s.as_str(), n)).collect();
    Ok(PublicLogPage { f: Frame::new(lang, None), checkpoint, counts })
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// Sets the language cookie and goes back to a page of homeward's own.
pub async fn set_language(UiForm(form): UiForm<LangForm>) -> Response {
    let lang = Lang::parse(&form.lang).unwrap_or(Lang::En);
    (
        [(header::SET_COOKIE, format!("homeward_lang={}; Path=/; SameSite=Strict; Max-Age=31536000", lang.code()))],
        Redirect::to(local_path(&form.back)),
    )
        .into_response()
}

/// `back` if it is a path on this site, otherwise `/`: never an open
/// redirect, never an invalid `Location`. Browsers read `//host` and `/\host`
/// as another site (they treat a backslash as a slash), a control character
/// could split the header, and a header value must be visible ASCII; so a
/// local path starts with one `/`, and holds printable ASCII without a
/// backslash (the pages only ever send such paths).
pub fn local_path(back: &str) -> &str {
    let local =
        back.starts_with('/') && !back.starts_with("//") && back.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if local { back } else { "/" }
}

pub async fn htmx() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        include_str!("../../static/vendor/htmx-2.0.11.min.js"),
    )
}
