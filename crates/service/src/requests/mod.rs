//! Tracing requests with authorisation: who files, who sees which request,
//! who decides, and what a family is told. See docs/TRACING.md.
//!
//! The key decision: a family's view is computed here ([`FamilyView`]) and
//! holds nothing but "we are searching" until a caseworker confirms a link;
//! then exactly the disclosed level, read live from the person's current
//! status. The registry never answers a family directly: filing a request
//! answers the same whether or not anyone matches, and matching runs in
//! the background ([`matcher`]).

pub mod matcher;

use std::sync::Arc;

use homeward_domain::{
    Decision, Desk, Disclosure, FieldError, PartialDate, PersonId, RequestStatus, Role, SoughtPerson, Status,
    TracingRequestId,
};
use homeward_matching::{BirthDate, MatchRecord};
use homeward_store::{
    Actor, MatchCandidate, NewTracingRequest, RequestFilter, Store, StoreError, TracingRequest, UserId,
};
use time::OffsetDateTime;

/// Longest free-text field, in characters.
pub const MAX_FIELD: usize = 200;

/// Who may do what with tracing requests; made only from a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TracingAccess {
    /// An enquirer: files requests, sees only their own.
    Family(UserId),
    /// A caseworker: sees and decides the requests of its desk.
    Caseworker { user: UserId, desk: Desk },
    /// The mediator: sees every request and reassigns them; does not decide.
    Mediator(UserId),
}

impl TracingAccess {
    /// A caseworker works its bureau's desk, or the mediator's when its
    /// account carries no bureau (docs/TRACING.md).
    pub fn for_role(role: &Role, user: UserId) -> Option<Self> {
        match role {
            Role::Family => Some(Self::Family(user)),
            Role::Caseworker { bureau } => Some(Self::Caseworker {
                user,
                desk: bureau.as_ref().map_or(Desk::Mediator, |party| Desk::Bureau(party.clone())),
            }),
            Role::Mediator => Some(Self::Mediator(user)),
            _ => None,
        }
    }

    fn may_see(&self, r: &TracingRequest) -> bool {
        match self {
            Self::Family(u) => r.owner == *u,
            Self::Caseworker { desk, .. } => r.desk == *desk,
            Self::Mediator(_) => true,
        }
    }

    fn actor(&self) -> Actor {
        match self {
            Self::Family(_) => Actor { role: "family".into(), party: None },
            Self::Caseworker { desk, .. } => Actor {
                role: "caseworker".into(),
                party: match desk {
                    Desk::Mediator => None,
                    Desk::Bureau(p) => Some(p.to_string()),
                },
            },
            Self::Mediator(_) => Actor { role: "mediator".into(), party: None },
        }
    }
}

/// Why a tracing operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("not found")]
    NotFound,
    #[error("some fields are invalid")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A request as a family fills it in.
#[derive(Debug, Clone, Default)]
pub struct RequestForm {
    pub enquirer_name: String,
    pub relationship: String,
    pub contact: String,
    pub consent: bool,
    pub sought: SoughtPerson,
}

/// One field under the free-text rule every input shares
/// (`homeward_domain::text`: trimmed, bounded, no control characters).
fn text(errors: &mut Vec<FieldError>, field: &str, v: &str, required: bool) -> String {
    let before = errors.len();
    let out = homeward_domain::text::free_text(field, Some(v), MAX_FIELD, errors);
    if required && out.is_none() && errors.len() == before {
        errors.push(FieldError::new(field, "required"));
    }
    out.unwrap_or_default()
}

fn opt(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>) -> Option<String> {
    v.as_deref().map(|s| text(errors, field, s, false)).filter(|s| !s.is_empty())
}

impl RequestForm {
    /// Validated and trimmed, or every invalid field (named, never quoted).
    pub fn validate(&self) -> Result<RequestForm, Vec<FieldError>> {
        let mut e = Vec::new();
        let s = &self.sought;
        let birth_date = opt(&mut e, "sought.birth_date", &s.birth_date);
        if let Some(d) = &birth_date
            && let Err(reason) = BirthDate::parse(d)
        {
            e.push(FieldError::new("sought.birth_date", reason));
        }
        let out = RequestForm {
            enquirer_name: text(&mut e, "enquirer_name", &self.enquirer_name, true),
            relationship: text(&mut e, "relationship", &self.relationship, true),
            contact: text(&mut e, "contact", &self.contact, true),
            consent: self.consent,
            sought: SoughtPerson {
                family_name: text(&mut e, "sought.family_name", &s.family_name, true),
                given_names: text(&mut e, "sought.given_names", &s.given_names, false),
                patronymic: opt(&mut e, "sought.patronymic", &s.patronymic),
                mother_maiden_name: opt(&mut e, "sought.mother_maiden_name", &s.mother_maiden_name),
                birth_date,
                place_of_birth: opt(&mut e, "sought.place_of_birth", &s.place_of_birth),
                service_number: opt(&mut e, "sought.service_number", &s.service_number),
                unit: opt(&mut e, "sought.unit", &s.unit),
            },
        };
        if !self.consent {
            e.push(FieldError::new("consent", "required: a request is kept and searched only with consent"));
        }
        if e.is_empty() { Ok(out) } else { Err(e) }
    }
}

/// The matcher's record of a sought person.
pub fn to_match_record(id: TracingRequestId, s: &SoughtPerson) -> MatchRecord {
    MatchRecord {
        id: id.to_string(),
        family_name: s.family_name.clone(),
        given_names: s.given_names.clone(),
        patronymic: s.patronymic.clone(),
        mother_maiden_name: s.mother_maiden_name.clone(),
        birth_date: s.birth_date.as_deref().and_then(|d| BirthDate::parse(d).ok()),
        place_of_birth: s.place_of_birth.clone(),
        rank: None,
        service_number: s.service_number.clone(),
        unit: s.unit.clone(),
    }
}

/// What a family is told about one of its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyView {
    pub id: TracingRequestId,
    pub filed_at: OffsetDateTime,
    pub sought_family_name: String,
    pub sought_given_names: String,
    /// `searching` until a caseworker confirms a link, then `found`; `closed`.
    pub state: &'static str,
    pub disclosed: Option<Disclosed>,
    /// The linked person whose record was read to disclose (for the
    /// access log; never shown to the family).
    pub read_person: Option<PersonId>,
}

/// The disclosed part of a confirmed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disclosed {
    /// `alive`, `dead` or `unknown`.
    Fate(&'static str),
    /// The current status and its date; never the place.
    Status { status: Status, on: Option<PartialDate> },
}

/// Alive, dead or unknown, from a status.
pub fn fate(s: Status) -> &'static str {
    match s {
        Status::Deceased | Status::RemainsReturned => "dead",
        Status::Missing | Status::Escaped => "unknown",
        _ => "alive",
    }
}

/// How many times [`Requests::candidates`] reads again a request that
/// changed while its candidates were read.
const MAX_REREADS: usize = 5;

/// The tracing use cases over a store.
#[derive(Debug, Clone)]
pub struct Requests {
    store: Arc<dyn Store>,
}

impl Requests {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Files a family's request at the mediator's desk. The answer is the
    /// same whatever the registry holds: matching happens later.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn file(&self, access: &TracingAccess, form: &RequestForm) -> Result<TracingRequestId, RequestError> {
        let TracingAccess::Family(owner) = access else { return Err(RequestError::NotFound) };
        let form = form.validate().map_err(RequestError::Invalid)?;
        let id = TracingRequestId::new();
        self.store
            .file_tracing_request(NewTracingRequest {
                id,
                owner: *owner,
                enquirer_name: form.enquirer_name,
                relationship: form.relationship,
                contact: form.contact,
                sought: form.sought,
                desk: Desk::Mediator,
                at: OffsetDateTime::now_utc(),
            })
            .await?;
        Ok(id)
    }

    /// The requests the caller sees: a family its own, a caseworker its
    /// desk's, the mediator all.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list(&self, access: &TracingAccess) -> Result<Vec<TracingRequest>, RequestError> {
        let filter = match access {
            TracingAccess::Family(u) => RequestFilter { owner: Some(*u), ..Default::default() },
            TracingAccess::Caseworker { desk, .. } => RequestFilter { desk: Some(desk.clone()), ..Default::default() },
            TracingAccess::Mediator(_) => RequestFilter::default(),
        };
        Ok(self.store.tracing_requests(&filter).await?)
    }

    /// One request the caller may see (`NotFound` otherwise, as for an unknown id).
    #[tracing::instrument(level = "debug", skip_all, fields(request.id = %id))]
    pub async fn get(&self, access: &TracingAccess, id: TracingRequestId) -> Result<TracingRequest, RequestError> {
        match self.store.tracing_request(id).await? {
            Some(r) if access.may_see(&r) => Ok(r),
            _ => Err(RequestError::NotFound),
        }
    }

    /// A family's view of its request: nothing from the registry until a
    /// confirmed link, then the disclosed level of the person's status now.
    #[tracing::instrument(level = "debug", skip_all, fields(request.id = %r.id))]
    pub async fn family_view(&self, r: &TracingRequest) -> Result<FamilyView, RequestError> {
        let mut read_person = None;
        let (state, disclosed) = match (r.status, r.linked_person, r.disclosure) {
            (RequestStatus::Confirmed, Some(person), Some(level)) => {
                // The status read: the family's view needs the status and
                // the latest event's date, never the identities.
                let disclosed = match self.store.person_status(person).await? {
                    None => None,
                    Some(p) => {
                        read_person = Some(person);
                        Some(match level {
                            Disclosure::Fate => Disclosed::Fate(fate(p.status)),
                            Disclosure::Status => Disclosed::Status { status: p.status, on: p.last.event.occurred_on },
                        })
                    }
                };
                ("found", disclosed)
            }
            (RequestStatus::Closed, _, _) => ("closed", None),
            _ => ("searching", None),
        };
        Ok(FamilyView {
            id: r.id,
            filed_at: r.created_at,
            sought_family_name: r.sought.family_name.clone(),
            sought_given_names: r.sought.given_names.clone(),
            state,
            disclosed,
            read_person,
        })
    }

    /// The candidates of a request the caller reviews (caseworker of its desk, or the mediator).
    #[tracing::instrument(level = "debug", skip_all, fields(request.id = %id))]
    pub async fn candidates(
        &self,
        access: &TracingAccess,
        id: TracingRequestId,
    ) -> Result<(TracingRequest, Vec<MatchCandidate>), RequestError> {
        if matches!(access, TracingAccess::Family(_)) {
            return Err(RequestError::NotFound);
        }
        // Two reads, and the matcher may add candidates (moving an open
        // request to `candidates`, in one transaction) between them: the
        // request is read again after its candidates, and both again if it
        // changed, so that the answer shows one state (not an open request
        // with candidates).
        let mut r = self.get(access, id).await?;
        for _ in 0..MAX_REREADS {
            let c = self.store.candidates(id).await?;
            let again = self.get(access, id).await?;
            if again == r {
                return Ok((r, c));
            }
            r = again;
        }
        // Still changing after that many reads (no matcher writes that
        // often): the latest candidates with the request read after them.
        let c = self.store.candidates(id).await?;
        Ok((self.get(access, id).await?, c))
    }

    /// Moves a request to another desk (the mediator only).
    #[tracing::instrument(level = "debug", skip_all, fields(request.id = %id))]
    pub async fn reassign(
        &self,
        access: &TracingAccess,
        id: TracingRequestId,
        desk: &Desk,
    ) -> Result<(), RequestError> {
        if !matches!(access, TracingAccess::Mediator(_)) {
            return Err(RequestError::NotFound);
        }
        if !self.store.assign_tracing_request(id, desk, &access.actor()).await? {
            return Err(RequestError::NotFound);
        }
        Ok(())
    }

    /// A caseworker confirms or rejects a candidate of its desk's request.
    /// Confirming needs a disclosure level; nothing is ever confirmed
    /// without this call.
    #[tracing::instrument(level = "debug", skip_all, fields(request.id = %id, person.id = %person))]
    pub async fn decide(
        &self,
        access: &TracingAccess,
        id: TracingRequestId,
        person: PersonId,
        decision: Decision,
        disclosure: Option<Disclosure>,
    ) -> Result<(), RequestError> {
        if !matches!(access, TracingAccess::Caseworker { .. }) {
            return Err(RequestError::NotFound);
        }
        self.get(access, id).await?;
        if decision == Decision::Confirmed && disclosure.is_none() {
            return Err(RequestError::Invalid(vec![FieldError::new(
                "disclosure",
                "required to confirm: fate or status",
            )]));
        }
        let disclosure = if decision == Decision::Confirmed { disclosure } else { None };
        self.store.decide_candidate(id, person, decision, disclosure, &access.actor()).await?;
        Ok(())
    }
}
