//! Tracing requests and their match candidates, as stored.
//!
//! Every change appends a `tracing_event` row and its log entry in the
//! same transaction (`LoggedRecord::TracingEvent`): filed, assigned to a
//! desk, a candidate confirmed or rejected. The request row's status, desk
//! and link are a cache of those events, as a person's status is of its
//! status events.
//!
//! Candidates the matcher finds are rows of their own (`match_candidate`),
//! not logged events: a public leaf appearing after a filing would tell the
//! family (or anyone) that the registry holds someone like the person
//! sought, before any caseworker confirmed it (docs/TRACING.md). The
//! caseworker's decision is logged, and commits to the candidate's
//! probability and explanation as the caseworker saw them. The enquirer's contact is sealed at rest
//! (column `tracing_request.contact`, and in the filing event); the log
//! commits to the plaintext, like the person contact fields.

use async_trait::async_trait;
use homeward_domain::{Decision, Desk, Disclosure, PersonId, RequestStatus, SoughtPerson, TracingRequestId};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{Actor, StoreError, UserId};

/// A request to file. Consent is checked before it gets here: a request
/// exists only with the enquirer's consent, recorded with its time.
#[derive(Debug, Clone)]
pub struct NewTracingRequest {
    pub id: TracingRequestId,
    pub owner: UserId,
    pub enquirer_name: String,
    pub relationship: String,
    pub contact: String,
    pub sought: SoughtPerson,
    pub desk: Desk,
    pub at: OffsetDateTime,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq)]
pub struct TracingRequest {
    pub id: TracingRequestId,
    pub owner: UserId,
    pub enquirer_name: String,
    pub relationship: String,
    pub contact: String,
    pub sought: SoughtPerson,
    pub status: RequestStatus,
    pub desk: Desk,
    pub linked_person: Option<PersonId>,
    pub disclosure: Option<Disclosure>,
    pub created_at: OffsetDateTime,
}

/// A candidate found by matching.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCandidate {
    pub person: PersonId,
    pub probability: f64,
    /// Per-field explanation: `[{"field", "level", "weight"}]`.
    pub explanation: Value,
}

/// A stored candidate with the caseworker's decision, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchCandidate {
    pub request: TracingRequestId,
    pub person: PersonId,
    pub probability: f64,
    pub explanation: Value,
    pub decision: Option<Decision>,
}

/// Which requests to list (AND of what is given), oldest first.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub owner: Option<UserId>,
    pub desk: Option<Desk>,
    /// Only requests still searched for (open or with candidates).
    pub searching: bool,
    /// Only requests filed at or after this instant (to the millisecond).
    pub filed_since: Option<time::OffsetDateTime>,
}

/// Event kinds of the tracing record, as in its content.
pub mod kind {
    pub const FILED: &str = "filed";
    pub const ASSIGNED: &str = "assigned";
    /// Logged by leaf version 1 only: candidates are no longer logged events.
    pub const CANDIDATE: &str = "candidate";
    pub const CONFIRMED: &str = "confirmed";
    pub const REJECTED: &str = "rejected";

    /// The public event type of a kind's leaf: the filing, or any staff
    /// change (`tracing.updated`), so that no leaf says what a caseworker
    /// decided, or that there was a candidate to decide.
    pub fn event_type(kind: &str) -> &'static str {
        use crate::log::event;
        if kind == FILED { event::TRACING_FILED } else { event::TRACING_UPDATED }
    }
}

/// The content of the filing event (the commitment covers the contact).
pub fn filed_content(new: &NewTracingRequest) -> Value {
    json!({
        "kind": kind::FILED,
        "owner": new.owner,
        "enquirer_name": new.enquirer_name,
        "relationship": new.relationship,
        "contact": new.contact,
        "sought": new.sought,
        "consent": true,
        "desk": new.desk,
    })
}

/// The content of a request's move to another desk.
pub fn assigned_content(desk: &Desk) -> Value {
    json!({"kind": kind::ASSIGNED, "desk": desk})
}

/// Takes the contact out of an event's content: the row keeps it sealed in
/// a column of its own, the log commits to the whole content.
pub fn split_contact(content: &mut Value) -> Option<String> {
    match content.as_object_mut().and_then(|m| m.remove("contact")) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Whether a caseworker may decide on a request in `status` (`None`: no
/// such request).
///
/// # Errors
/// The rule that refuses it.
pub fn check_decidable(status: Option<RequestStatus>) -> Result<(), crate::Refusal> {
    match status {
        Some(s) if s.is_searching() => Ok(()),
        Some(_) => Err(crate::Refusal::RequestNotSearching),
        None => Err(crate::Refusal::NoSuchRequest),
    }
}

/// The status a request in `status` moves to when `added` candidates were
/// stored, if it moves (an open request has candidates now).
pub fn status_after_candidates(status: RequestStatus, added: usize) -> Option<RequestStatus> {
    (added > 0 && status == RequestStatus::Open).then_some(RequestStatus::Candidates)
}

/// The content of a caseworker's decision: what was decided, and the
/// candidate as the caseworker saw it (candidates are not logged on their
/// own, so the decision commits to the probability and explanation).
pub fn decision_content(
    decision: Decision,
    person: PersonId,
    disclosure: Option<Disclosure>,
    probability: f64,
    explanation: Value,
) -> Value {
    json!({
        "kind": decision.as_str(),
        "person_id": person,
        "disclosure": disclosure,
        "probability": format!("{probability:.6}"),
        "explanation": explanation,
    })
}

/// The tracing operations of a backend.
#[async_trait]
pub trait TracingStore: Send + Sync + std::fmt::Debug {
    /// Files a request (status open) and logs it.
    async fn file_tracing_request(&self, new: NewTracingRequest) -> Result<(), StoreError>;

    /// A request with its contact opened.
    async fn tracing_request(&self, id: TracingRequestId) -> Result<Option<TracingRequest>, StoreError>;

    /// Requests matching the filter, oldest first.
    async fn tracing_requests(&self, filter: &RequestFilter) -> Result<Vec<TracingRequest>, StoreError>;

    /// Moves a request to another desk; false if there is no such request.
    async fn assign_tracing_request(&self, id: TracingRequestId, desk: &Desk, by: &Actor) -> Result<bool, StoreError>;

    /// Adds the candidates not yet recorded for the request (a pair is
    /// recorded once, whatever its later score), not logged; a request
    /// still open moves to `candidates`. Nothing is added to a request
    /// that is no longer searched for. Returns how many were added.
    async fn add_candidates(&self, id: TracingRequestId, candidates: Vec<NewCandidate>) -> Result<usize, StoreError>;

    /// The request's candidates, most probable first.
    async fn candidates(&self, id: TracingRequestId) -> Result<Vec<MatchCandidate>, StoreError>;

    /// A caseworker's decision on an undecided candidate of a request still
    /// searched for, logged. Confirming links the person, sets the
    /// disclosure level and the status `confirmed`. `StoreError::Refused`
    /// when the candidate is unknown or decided, or the request is not
    /// searched for any more.
    async fn decide_candidate(
        &self,
        id: TracingRequestId,
        person: PersonId,
        decision: Decision,
        disclosure: Option<Disclosure>,
        by: &Actor,
    ) -> Result<(), StoreError>;

    /// A background job's durable watermark (0 when never set).
    async fn job_watermark(&self, job: &str) -> Result<i64, StoreError>;

    /// Moves a background job's watermark.
    async fn set_job_watermark(&self, job: &str, value: i64) -> Result<(), StoreError>;
}
