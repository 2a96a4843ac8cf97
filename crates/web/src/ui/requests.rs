//! Tracing pages: a family's requests and the form to file one; a
//! caseworker's desk queue and a request with its candidates side by side;
//! the staff search. Same service calls as the API
//! (`homeward_service::requests`, `homeward_service::registry`), so the
//! same rules decide. Forms post (names never go into a URL).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use homeward_domain::{Decision, Disclosure, PersonId, SoughtPerson};
use homeward_service::requests::{Disclosed, FamilyView, RequestError, RequestForm, TracingAccess};
use serde::Deserialize;

use super::{Frame, Name};
use crate::AppState;
use crate::auth::PeerIp;
use crate::auth::capabilities::{CanSearch, CanTrace};
use crate::error::AppError;
use crate::ui::form::{UiForm, error_page};
use crate::ui::i18n::{Lang, Strings};
use crate::v1::requests::{CandidateOut, decide_candidate, family_limit, with_persons};
use crate::v1::search::{CandidateOut as SearchHit, SearchIn};

/// A family's request, in its words.
#[derive(Debug)]
pub struct FamilyLine {
    pub id: String,
    pub filed_at: String,
    pub sought: Name,
    pub state: &'static str,
    pub disclosed: Option<String>,
}

fn family_line(t: &Strings, v: FamilyView) -> FamilyLine {
    let state = match v.state {
        "found" => t.found,
        _ => t.searching,
    };
    let disclosed = v.disclosed.map(|d| match d {
        Disclosed::Fate("alive") => t.fate_alive.to_owned(),
        Disclosed::Fate("dead") => t.fate_dead.to_owned(),
        Disclosed::Fate(_) => t.fate_unknown.to_owned(),
        Disclosed::Status { status, on } => match on {
            Some(d) => format!("{} · {d}", t.status_name(status)),
            None => t.status_name(status).to_owned(),
        },
    });
    FamilyLine {
        id: v.id.to_string(),
        filed_at: v.filed_at.date().to_string(),
        sought: Name::of(&format!("{} {}", v.sought_family_name, v.sought_given_names)),
        state,
        disclosed,
    }
}

/// A request in a desk's queue.
#[derive(Debug)]
pub struct StaffLine {
    pub id: String,
    pub filed_at: String,
    pub sought: Name,
    pub status: &'static str,
    pub desk: String,
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "tracing_list.html")]
pub struct TracingListPage {
    f: Frame,
    family: bool,
    notice: Option<&'static str>,
    errors: Vec<String>,
    mine: Vec<FamilyLine>,
    queue: Vec<StaffLine>,
}

async fn list_page(
    state: &AppState,
    can: &CanTrace,
    lang: Lang,
    notice: Option<&'static str>,
    errors: Vec<String>,
) -> Result<TracingListPage, AppError> {
    let t = lang.t();
    let rows = state.requests.list(&can.access).await?;
    let family = matches!(can.access, TracingAccess::Family(_));
    let (mut mine, mut queue, mut read) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        if family {
            let view = state.requests.family_view(&r).await?;
            read.extend(view.read_person);
            mine.push(family_line(t, view));
        } else {
            queue.push(StaffLine {
                id: r.id.to_string(),
                filed_at: r.created_at.date().to_string(),
                sought: Name::of(&format!("{} {}", r.sought.family_name, r.sought.given_names)),
                status: r.status.as_str(),
                desk: r.desk.to_string(),
            });
        }
    }
    let who = crate::auth::capabilities::accessor(&can.user, "GET /tracing");
    state.registry.record_reads(&who, &read).await?;
    Ok(TracingListPage { f: Frame::new(lang, Some(&can.user)), family, notice, errors, mine, queue })
}

/// `GET /tracing`: a family's requests and the form; a desk's queue.
pub async fn list(can: CanTrace, lang: Lang, State(state): State<AppState>) -> Result<Response, AppError> {
    let page = list_page(&state, &can, lang, None, Vec::new()).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct FileForm {
    #[serde(default)]
    enquirer_name: String,
    #[serde(default)]
    relationship: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    consent: Option<String>,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    given_names: String,
    #[serde(default)]
    patronymic: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    service_number: String,
}

fn some(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

/// `POST /tracing`: a family files a request (rate-limited like the API).
pub async fn file(
    can: CanTrace,
    ip: PeerIp,
    lang: Lang,
    State(state): State<AppState>,
    UiForm(form): UiForm<FileForm>,
) -> Result<Response, AppError> {
    if !matches!(can.access, TracingAccess::Family(_)) {
        return Err(AppError::NotFound);
    }
    family_limit(&state, &can, ip)?;
    let request = RequestForm {
        enquirer_name: form.enquirer_name,
        relationship: form.relationship,
        contact: form.contact,
        consent: form.consent.is_some(),
        sought: SoughtPerson {
            family_name: form.family_name,
            given_names: form.given_names,
            patronymic: some(form.patronymic),
            birth_date: some(form.birth_date),
            service_number: some(form.service_number),
            ..SoughtPerson::default()
        },
    };
    match state.requests.file(&can.access, &request).await {
        Ok(_) => {
            state.matcher_nudge.notify_one();
            let page = list_page(&state, &can, lang, Some(lang.t().filed), Vec::new()).await?;
            Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Err(RequestError::Invalid(errors)) => {
            let errors = errors.into_iter().map(|e| format!("{}: {}", e.field, e.reason)).collect();
            let page = list_page(&state, &can, lang, None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A candidate beside the request, names with their Latin form.
#[derive(Debug)]
pub struct CandidateView {
    pub person_id: String,
    pub name: Name,
    pub patronymic: Option<Name>,
    pub birth_date: String,
    pub service_number: String,
    pub status: String,
    pub probability: String,
    pub why: Vec<(String, String, String)>,
    pub decision: Option<String>,
}

impl From<CandidateOut> for CandidateView {
    fn from(c: CandidateOut) -> Self {
        let why = c
            .explanation
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        let w = e["weight"].as_f64().unwrap_or(0.0);
                        (
                            e["field"].as_str().unwrap_or_default().to_owned(),
                            e["level"].as_str().unwrap_or_default().to_owned(),
                            format!("{w:+.1}"),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            person_id: c.person_id,
            name: Name::of(&format!("{} {}", c.family_name.unwrap_or_default(), c.given_names.unwrap_or_default())),
            patronymic: c.patronymic.as_deref().map(Name::of),
            birth_date: c.birth_date.unwrap_or_default(),
            service_number: c.service_number.unwrap_or_default(),
            status: c.status.unwrap_or_default(),
            probability: format!("{:.3}", c.probability),
            why,
            decision: c.decision,
        }
    }
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "tracing_request.html")]
pub struct RequestPage {
    f: Frame,
    id: String,
    /// The family's view, for a family.
    mine: Option<FamilyLine>,
    /// The staff view.
    sought: Vec<(&'static str, Name)>,
    enquirer: Option<(String, String, String)>,
    status: &'static str,
    desk: String,
    candidates: Vec<CandidateView>,
    can_decide: bool,
}

/// `GET /tracing/{id}`.
pub async fn show(
    can: CanTrace,
    lang: Lang,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    let t = lang.t();
    let f = Frame::new(lang, Some(&can.user));
    let page = if matches!(can.access, TracingAccess::Family(_)) {
        let r = state.requests.get(&can.access, id).await?;
        let view = state.requests.family_view(&r).await?;
        let who = crate::auth::capabilities::accessor(&can.user, "GET /tracing/{id}");
        state.registry.record_reads(&who, &view.read_person.into_iter().collect::<Vec<_>>()).await?;
        let mine = family_line(t, view);
        RequestPage {
            f,
            id: r.id.to_string(),
            mine: Some(mine),
            sought: Vec::new(),
            enquirer: None,
            status: r.status.as_str(),
            desk: String::new(),
            candidates: Vec::new(),
            can_decide: false,
        }
    } else {
        let (r, c) = state.requests.candidates(&can.access, id).await?;
        let candidates =
            with_persons(&state, &can, c, "GET /tracing/{id}").await?.into_iter().map(CandidateView::from).collect();
        let s = &r.sought;
        let mut sought = vec![(t.family_name, Name::of(&s.family_name)), (t.given_names, Name::of(&s.given_names))];
        for (k, v) in
            [(t.patronymic, &s.patronymic), (t.birth_date, &s.birth_date), (t.service_number, &s.service_number)]
        {
            if let Some(v) = v {
                sought.push((k, Name::of(v)));
            }
        }
        RequestPage {
            f,
            id: r.id.to_string(),
            mine: None,
            sought,
            enquirer: Some((r.enquirer_name.clone(), r.relationship.clone(), r.contact.clone())),
            status: r.status.as_str(),
            desk: r.desk.to_string(),
            candidates,
            can_decide: matches!(can.access, TracingAccess::Caseworker { .. }) && r.status.is_searching(),
        }
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    person_id: String,
    decision: String,
    #[serde(default)]
    disclosure: Option<String>,
}

/// `POST /tracing/{id}/decide`: a caseworker confirms or rejects.
pub async fn decide(
    can: CanTrace,
    lang: Lang,
    State(state): State<AppState>,
    Path(id): Path<String>,
    UiForm(form): UiForm<DecideForm>,
) -> Result<Response, AppError> {
    let rid = id.parse().map_err(|_| AppError::NotFound)?;
    // The page sends these from hidden fields and radio buttons: a value
    // that does not parse is a form the page did not make.
    let disclosure = form.disclosure.as_deref().filter(|d| !d.is_empty()).map(str::parse::<Disclosure>).transpose();
    let (Ok(person), Ok(decision), Ok(disclosure)) =
        (form.person_id.parse::<PersonId>(), form.decision.parse::<Decision>(), disclosure)
    else {
        return Ok(error_page(lang, StatusCode::BAD_REQUEST));
    };
    decide_candidate(&state, &can, rid, person, decision, disclosure).await?;
    Ok(Redirect::to(&format!("/tracing/{rid}")).into_response())
}

#[derive(Debug, Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    f: Frame,
    family_name: String,
    given_names: String,
    birth_date: String,
    service_number: String,
    errors: Vec<String>,
    hits: Option<Vec<(Name, SearchHit)>>,
}

/// `GET /search`: the staff search form.
pub async fn search_form(can: CanSearch, lang: Lang) -> SearchPage {
    SearchPage {
        f: Frame::new(lang, Some(&can.user)),
        family_name: String::new(),
        given_names: String::new(),
        birth_date: String::new(),
        service_number: String::new(),
        errors: Vec::new(),
        hits: None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    given_names: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    service_number: String,
}

/// `POST /search`: candidates with probability and explanation.
pub async fn search(
    can: CanSearch,
    lang: Lang,
    State(state): State<AppState>,
    UiForm(form): UiForm<SearchForm>,
) -> Result<Response, AppError> {
    let input = SearchIn {
        family_name: form.family_name.clone(),
        given_names: some(form.given_names.clone()),
        birth_date: some(form.birth_date.clone()),
        service_number: some(form.service_number.clone()),
        ..SearchIn::default()
    };
    let mut page = SearchPage {
        f: Frame::new(lang, Some(&can.user)),
        family_name: form.family_name,
        given_names: form.given_names,
        birth_date: form.birth_date,
        service_number: form.service_number,
        errors: Vec::new(),
        hits: None,
    };
    match input.to_record() {
        Err(errors) => {
            page.errors = errors.into_iter().map(|e| format!("{}: {}", e.field, e.reason)).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Ok(query) => {
            let found =
                state.registry.search(&can.searcher, &state.index, query, 20, &can.accessor("POST /search")).await;
            let hits = match found {
                Err(e @ homeward_store::StoreError::Unavailable(_)) => {
                    // The server is starting: the form stays filled in.
                    page.errors = vec![e.to_string()];
                    let retry = (header::RETRY_AFTER, crate::error::RETRY_UNAVAILABLE_AFTER.to_string());
                    return Ok((StatusCode::SERVICE_UNAVAILABLE, [retry], page).into_response());
                }
                other => other?,
            };
            page.hits = Some(
                hits.into_iter()
                    .map(SearchHit::from)
                    .map(|h| (Name::of(&format!("{} {}", h.family_name, h.given_names)), h))
                    .collect(),
            );
            Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
        }
    }
}
