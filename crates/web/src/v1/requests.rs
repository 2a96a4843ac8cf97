//! `/api/v1/tracing-requests`: families file and read their own requests;
//! caseworkers review their desk's requests and decide candidates; the
//! mediator sees every request and reassigns desks. Who sees what is
//! decided in `homeward_service::requests`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use homeward_domain::{Decision, Desk, Disclosure, PersonId, SoughtPerson, TracingRequestId};
use homeward_service::requests::{Disclosed, FamilyView, RequestError, RequestForm, TracingAccess};
use homeward_store::{MatchCandidate, TracingRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::ApiJson;
use super::model::{Problem, rfc3339};
use crate::AppState;
use crate::auth::PeerIp;
use crate::auth::capabilities::CanTrace;
use crate::error::AppError;
use crate::ratelimit::retry_after_secs;

/// Largest JSON body a tracing route accepts.
pub const MAX_JSON_BODY: usize = 16 * 1024;

impl From<RequestError> for AppError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::NotFound => AppError::NotFound,
            RequestError::Invalid(errors) => {
                AppError::Unprocessable { detail: "some fields are invalid".into(), errors }
            }
            RequestError::Refused(m) => AppError::Conflict(m.into()),
            RequestError::Store(s) => s.into(),
        }
    }
}

/// The person sought, in the person-import field names.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SoughtIn {
    pub family_name: String,
    #[serde(default)]
    pub given_names: Option<String>,
    #[serde(default)]
    pub patronymic: Option<String>,
    #[serde(default)]
    pub mother_maiden_name: Option<String>,
    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `DD.MM.YYYY` or `MM.YYYY`.
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub place_of_birth: Option<String>,
    #[serde(default)]
    pub service_number: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
}

/// A family's tracing request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequestIn {
    pub enquirer_name: String,
    /// The enquirer's relationship to the person sought (mother, son, ...).
    pub relationship: String,
    /// How to reach the enquirer: kept encrypted, seen by caseworkers only.
    pub contact: String,
    /// Consent to keep the request and search for the person: required.
    pub consent: bool,
    pub sought: SoughtIn,
}

impl FileRequestIn {
    pub fn form(self) -> RequestForm {
        let s = self.sought;
        RequestForm {
            enquirer_name: self.enquirer_name,
            relationship: self.relationship,
            contact: self.contact,
            consent: self.consent,
            sought: SoughtPerson {
                family_name: s.family_name,
                given_names: s.given_names.unwrap_or_default(),
                patronymic: s.patronymic,
                mother_maiden_name: s.mother_maiden_name,
                birth_date: s.birth_date,
                place_of_birth: s.place_of_birth,
                service_number: s.service_number,
                unit: s.unit,
            },
        }
    }
}

/// The answer to a filing: the same whatever the registry holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiledOut {
    pub id: String,
    #[schema(example = "searching")]
    pub state: String,
}

/// One request as its reader may see it: a family its own view, staff the
/// whole request with its candidates. Each has fields the other lacks
/// (`state` and `sought_family_name`; `desk` and `contact`), so an answer
/// is exactly one of the two.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RequestOut {
    Family(FamilyRequestOut),
    Staff(StaffRequestOut),
}

/// A request as its family sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FamilyRequestOut {
    pub id: String,
    pub filed_at: String,
    pub sought_family_name: String,
    pub sought_given_names: String,
    /// `searching`, `found` (a caseworker confirmed a link) or `closed`.
    pub state: String,
    /// Once found, at the disclosed level: `alive`, `dead` or `unknown`.
    pub fate: Option<String>,
    /// Once found, at level `status`: the current status, never the place.
    pub status: Option<String>,
    pub status_date: Option<String>,
}

impl From<FamilyView> for FamilyRequestOut {
    fn from(v: FamilyView) -> Self {
        let (fate, status, status_date) = match v.disclosed {
            None => (None, None, None),
            Some(Disclosed::Fate(f)) => (Some(f.to_owned()), None, None),
            Some(Disclosed::Status { status, on }) => {
                (None, Some(status.as_str().to_owned()), on.map(|d| d.to_string()))
            }
        };
        Self {
            id: v.id.to_string(),
            filed_at: rfc3339(v.filed_at),
            sought_family_name: v.sought_family_name,
            sought_given_names: v.sought_given_names,
            state: v.state.to_owned(),
            fate,
            status,
            status_date,
        }
    }
}

/// A request as a caseworker or the mediator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffRequestOut {
    pub id: String,
    pub filed_at: String,
    pub status: String,
    /// `mediator` or `bureau:CODE` (one of the conflict's parties).
    #[schema(pattern = "^(mediator|bureau:[A-Za-z][A-Za-z0-9_-]{0,15})$")]
    pub desk: String,
    pub enquirer_name: String,
    pub relationship: String,
    pub contact: String,
    #[schema(value_type = Object)]
    pub sought: serde_json::Value,
    pub linked_person: Option<String>,
    pub disclosure: Option<String>,
    /// With a single request only.
    pub candidates: Option<Vec<CandidateOut>>,
}

impl StaffRequestOut {
    pub fn new(r: TracingRequest, candidates: Option<Vec<CandidateOut>>) -> Self {
        Self {
            id: r.id.to_string(),
            filed_at: rfc3339(r.created_at),
            status: r.status.as_str().to_owned(),
            desk: r.desk.to_string(),
            enquirer_name: r.enquirer_name,
            relationship: r.relationship,
            contact: r.contact,
            sought: serde_json::to_value(&r.sought).unwrap_or_default(),
            linked_person: r.linked_person.map(|p| p.to_string()),
            disclosure: r.disclosure.map(|d| d.as_str().to_owned()),
            candidates,
        }
    }
}

/// A stored candidate of a request, with the person as the registry
/// holds it (primary source's latest identity) for the caseworker to judge.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    pub person_id: String,
    pub probability: f64,
    pub family_name: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    pub birth_date: Option<String>,
    pub place_of_birth: Option<String>,
    pub service_number: Option<String>,
    /// The person's current status.
    pub status: Option<String>,
    /// `[{"field", "level", "weight"}]`.
    #[schema(value_type = Vec<Object>)]
    pub explanation: serde_json::Value,
    /// `confirmed`, `rejected`, or none yet.
    pub decision: Option<String>,
}

impl CandidateOut {
    pub fn new(c: MatchCandidate, person: Option<&homeward_store::PersonRecord>) -> Self {
        let id = person.and_then(homeward_service::registry::primary).map(|v| &v.identity);
        Self {
            person_id: c.person.to_string(),
            probability: c.probability,
            family_name: id.map(|i| i.family_name.clone()),
            given_names: id.map(|i| i.given_names.clone()),
            patronymic: id.and_then(|i| i.patronymic.clone()),
            birth_date: id.and_then(|i| i.birth_date).map(|d| d.to_string()),
            place_of_birth: id.and_then(|i| i.place_of_birth.clone()),
            service_number: id.and_then(|i| i.service_number.clone()),
            status: person.map(|p| p.status.as_str().to_owned()),
            explanation: c.explanation,
            decision: c.decision.map(|d| d.as_str().to_owned()),
        }
    }
}

/// The caller's requests (a family its own, a caseworker its desk's, the mediator all).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RequestListOut {
    Family { items: Vec<FamilyRequestOut> },
    Staff { items: Vec<StaffRequestOut> },
}

/// A caseworker's decision on a candidate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    #[schema(pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    pub person_id: String,
    /// `confirmed` or `rejected`.
    #[schema(pattern = "^(confirmed|rejected)$")]
    pub decision: String,
    /// Required to confirm: `fate` (alive, dead or unknown) or `status` (current status and date, never the place).
    #[serde(default)]
    #[schema(pattern = "^(fate|status)$")]
    pub disclosure: Option<String>,
}

/// A new desk.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeskIn {
    /// `mediator` or `bureau:CODE` (one of the conflict's parties).
    #[schema(pattern = "^(mediator|bureau:[A-Za-z][A-Za-z0-9_-]{0,15})$")]
    pub desk: String,
}

/// Takes one family-facing search from the account's and the address's budget.
pub fn family_limit(state: &AppState, can: &CanTrace, ip: PeerIp) -> Result<(), AppError> {
    let address = ip.0.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    for key in [format!("account:{}", can.user.user.id), format!("address:{address}")] {
        if let Err(wait) = state.family_searches.check(&key) {
            return Err(AppError::TooManyRequests { retry_after: retry_after_secs(wait) });
        }
    }
    Ok(())
}

/// Each candidate with its person, read through the registry (so each is
/// an access in the access log). A candidate the caller may not read (a
/// bureau's caseworker and a person outside that party's scope) is left
/// out, as if the matcher had not proposed it.
/// `endpoint` is the route that shows them (the API's or the page's), as
/// the access log records it.
pub async fn with_persons(
    state: &AppState,
    can: &CanTrace,
    candidates: Vec<MatchCandidate>,
    endpoint: &'static str,
) -> Result<Vec<CandidateOut>, AppError> {
    let Some(candidates_reader) = homeward_service::registry::CandidateReader::for_role(&can.user.role) else {
        return Err(AppError::NotFound);
    };
    let who = crate::auth::capabilities::accessor(&can.user, endpoint);
    let mut out = Vec::with_capacity(candidates.len());
    for c in candidates {
        if let Some(person) = state.registry.person_if_visible(candidates_reader.reader(), c.person, &who).await? {
            out.push(CandidateOut::new(c, Some(&person)));
        }
    }
    Ok(out)
}

/// Decides a candidate, if the caller may read its person (see
/// [`with_persons`]): a candidate it was never shown answers 404.
pub async fn decide_candidate(
    state: &AppState,
    can: &CanTrace,
    request: TracingRequestId,
    person: PersonId,
    decision: Decision,
    disclosure: Option<Disclosure>,
) -> Result<(), AppError> {
    let readable = match homeward_service::registry::CandidateReader::for_role(&can.user.role) {
        Some(candidates_reader) => {
            // One indexed statement (the status read's), not the whole record.
            state.store.person_status(person).await?.is_some_and(|s| candidates_reader.reader().may_see_status(&s))
        }
        None => false,
    };
    if !readable {
        return Err(AppError::NotFound);
    }
    state.requests.decide(&can.access, request, person, decision, disclosure).await?;
    Ok(())
}

fn request_id(raw: &str) -> Result<TracingRequestId, AppError> {
    raw.parse().map_err(|_| AppError::BadRequest("id: not a tracing request id"))
}

/// Files a tracing request (families). Consent is required. The answer
/// is the same whether or not anyone in the registry matches: matching
/// runs in the background and a caseworker confirms before a family is
/// told anything. Rate-limited per account and per address.
#[utoipa::path(post, path = "/api/v1/tracing-requests", tag = "tracing", request_body = FileRequestIn,
    responses(
        (status = 202, body = FiledOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "cross-site request"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "the caller is not a family member"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "too many requests; see Retry-After"),
    ))]
pub async fn file(
    can: CanTrace,
    ip: PeerIp,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<FileRequestIn>,
) -> Result<Response, AppError> {
    if !matches!(can.access, TracingAccess::Family(_)) {
        return Err(AppError::NotFound);
    }
    family_limit(&state, &can, ip)?;
    let id = state.requests.file(&can.access, &body.form()).await?;
    state.matcher_nudge.notify_one();
    Ok((StatusCode::ACCEPTED, Json(FiledOut { id: id.to_string(), state: "searching".into() })).into_response())
}

/// The caller's tracing requests.
#[utoipa::path(get, path = "/api/v1/tracing-requests", tag = "tracing",
    responses(
        (status = 200, body = RequestListOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "the caller's role has no tracing requests"),
    ))]
pub async fn list(can: CanTrace, State(state): State<AppState>) -> Result<Response, AppError> {
    let rows = state.requests.list(&can.access).await?;
    let out = if matches!(can.access, TracingAccess::Family(_)) {
        let mut items = Vec::with_capacity(rows.len());
        let mut read = Vec::new();
        for r in &rows {
            let view = state.requests.family_view(r).await?;
            read.extend(view.read_person);
            items.push(FamilyRequestOut::from(view));
        }
        let who = crate::auth::capabilities::accessor(&can.user, "GET /api/v1/tracing-requests");
        state.registry.record_reads(&who, &read).await?;
        RequestListOut::Family { items }
    } else {
        RequestListOut::Staff { items: rows.into_iter().map(|r| StaffRequestOut::new(r, None)).collect() }
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(out)).into_response())
}

/// One request: a family's view of its own, or the staff view with candidates.
#[utoipa::path(get, path = "/api/v1/tracing-requests/{id}", tag = "tracing",
    params(("id" = String, Path, description = "the request's id (UUID)", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 200, body = RequestOut, description = "FamilyRequestOut for a family, StaffRequestOut for staff"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn show(can: CanTrace, State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let body = if matches!(can.access, TracingAccess::Family(_)) {
        let r = state.requests.get(&can.access, id).await?;
        let view = state.requests.family_view(&r).await?;
        let who = crate::auth::capabilities::accessor(&can.user, "GET /api/v1/tracing-requests/{id}");
        state.registry.record_reads(&who, &view.read_person.into_iter().collect::<Vec<_>>()).await?;
        RequestOut::Family(FamilyRequestOut::from(view))
    } else {
        let (r, c) = state.requests.candidates(&can.access, id).await?;
        let c = with_persons(&state, &can, c, "GET /api/v1/tracing-requests/{id}").await?;
        RequestOut::Staff(StaffRequestOut::new(r, Some(c)))
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// Confirms or rejects a candidate (caseworkers of the request's desk).
/// Never automatic: this is the only way a link is made.
#[utoipa::path(post, path = "/api/v1/tracing-requests/{id}/decisions", tag = "tracing", request_body = DecisionIn,
    params(("id" = String, Path, description = "the request's id (UUID)", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 204, description = "decided"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "cross-site request"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "already decided, or the request is no longer searched for"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide(
    can: CanTrace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let person: PersonId = body.person_id.parse().map_err(|_| AppError::BadRequest("person_id: not a person id"))?;
    let decision: Decision = body.decision.parse().map_err(|()| AppError::Unprocessable {
        detail: "decision: confirmed or rejected".into(),
        errors: vec![homeward_domain::FieldError::new("decision", "confirmed or rejected")],
    })?;
    let disclosure =
        body.disclosure.as_deref().map(str::parse::<Disclosure>).transpose().map_err(|()| AppError::Unprocessable {
            detail: "disclosure: fate or status".into(),
            errors: vec![homeward_domain::FieldError::new("disclosure", "fate or status")],
        })?;
    decide_candidate(&state, &can, id, person, decision, disclosure).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Moves a request to another desk (the mediator).
#[utoipa::path(post, path = "/api/v1/tracing-requests/{id}/desk", tag = "tracing", request_body = DeskIn,
    params(("id" = String, Path, description = "the request's id (UUID)", pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")),
    responses(
        (status = 204, description = "reassigned"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "cross-site request"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reassign(
    can: CanTrace,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DeskIn>,
) -> Result<Response, AppError> {
    let id = request_id(&id)?;
    let desk: Desk = body.desk.parse().map_err(|_| AppError::Unprocessable {
        detail: "desk: mediator or bureau:CODE".into(),
        errors: vec![homeward_domain::FieldError::new("desk", "mediator or bureau:CODE")],
    })?;
    if let Desk::Bureau(p) = &desk {
        let known = state.store.conflict().await?.is_some_and(|s| s.parties.iter().any(|x| &x.code == p));
        if !known {
            return Err(AppError::Unprocessable {
                detail: "desk: not one of the conflict's parties".into(),
                errors: vec![homeward_domain::FieldError::new("desk", "not one of the conflict's parties")],
            });
        }
    }
    state.requests.reassign(&can.access, id, &desk).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
