//! The API's bodies, as the OpenAPI document describes them. They mirror
//! the domain's types with plain strings, so that the domain carries no
//! HTTP or schema dependency and the wire format changes only here.

use homeward_domain::{FieldError, PartialDate, PersonIdentity, RawIdentity, Status, StatusEvent};
use homeward_store::{IdentityVersion, PersonRecord, PersonStatus, PersonSummary, StatusRecord};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// An RFC 9457 problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Invalid fields, named, never quoted (422 only).
    pub errors: Option<Vec<FieldProblem>>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub reason: String,
}

/// A listing line: the primary source's latest identity and the status.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonLine {
    pub id: String,
    #[schema(example = "held")]
    pub status: String,
    pub family_name: String,
    pub given_names: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    pub power: String,
    pub source: String,
    pub record_id: String,
}

impl From<PersonSummary> for PersonLine {
    fn from(s: PersonSummary) -> Self {
        Self {
            id: s.id.to_string(),
            status: s.status.as_str().to_owned(),
            family_name: s.family_name,
            given_names: s.given_names,
            birth_date: s.birth_date.map(|d| d.to_string()),
            power: s.power.to_string(),
            source: s.source.source.to_string(),
            record_id: s.source.record_id,
        }
    }
}

/// One page of persons. Pass `next_after` as `after` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonLine>,
    pub next_after: Option<String>,
}

/// A person's identity as one source wrote it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityOut {
    pub family_name: String,
    pub given_names: String,
    pub patronymic: Option<String>,
    pub mother_maiden_name: Option<String>,
    pub birth_date: Option<String>,
    pub place_of_birth: Option<String>,
    pub rank: Option<String>,
    pub service_number: Option<String>,
    pub unit: Option<String>,
    pub power: String,
    #[schema(example = "military")]
    pub category: String,
    pub person_to_inform: Option<String>,
    pub correspondence_address: Option<String>,
}

impl From<PersonIdentity> for IdentityOut {
    fn from(i: PersonIdentity) -> Self {
        Self {
            family_name: i.family_name,
            given_names: i.given_names,
            patronymic: i.patronymic,
            mother_maiden_name: i.mother_maiden_name,
            birth_date: i.birth_date.map(|d| d.to_string()),
            place_of_birth: i.place_of_birth,
            rank: i.rank,
            service_number: i.service_number,
            unit: i.unit,
            power: i.power.to_string(),
            category: i.category.as_str().to_owned(),
            person_to_inform: i.person_to_inform,
            correspondence_address: i.correspondence_address,
        }
    }
}

/// One version of one source's identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityVersionOut {
    pub source: String,
    pub record_id: String,
    pub version: u32,
    pub recorded_at: String,
    pub identity: IdentityOut,
}

impl From<IdentityVersion> for IdentityVersionOut {
    fn from(v: IdentityVersion) -> Self {
        Self {
            source: v.source.source.to_string(),
            record_id: v.source.record_id,
            version: v.version,
            recorded_at: rfc3339(v.recorded_at),
            identity: v.identity.into(),
        }
    }
}

/// A status event as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusOut {
    pub seq: u32,
    pub status: String,
    pub occurred_on: Option<String>,
    pub place: Option<String>,
    pub details: Option<String>,
    pub reported_by: String,
    pub recorded_at: String,
}

impl From<StatusRecord> for StatusOut {
    fn from(r: StatusRecord) -> Self {
        Self {
            seq: r.seq,
            status: r.event.status.as_str().to_owned(),
            occurred_on: r.event.occurred_on.map(|d| d.to_string()),
            place: r.event.place,
            details: r.event.details,
            reported_by: r.reported_by.to_string(),
            recorded_at: rfc3339(r.recorded_at),
        }
    }
}

/// A person's current status: no identity, no free-text details (those are
/// in the whole record, `GET /api/v1/persons/{id}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonStatusOut {
    pub id: String,
    pub status: String,
    /// When the current status began: the first of the latest events in it
    /// (a transfer between camps does not restart `held`).
    pub since: StatusSinceOut,
    /// The latest event.
    pub last_event: LastEventOut,
}

/// The event from which a person has been in the current status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusSinceOut {
    pub seq: u32,
    /// When it happened, as precisely as known (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
    pub occurred_on: Option<String>,
    pub recorded_at: String,
}

/// A status event's fields other than its free-text details.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastEventOut {
    pub seq: u32,
    pub status: String,
    pub occurred_on: Option<String>,
    pub place: Option<String>,
    pub reported_by: String,
    pub recorded_at: String,
}

impl From<PersonStatus> for PersonStatusOut {
    fn from(s: PersonStatus) -> Self {
        let last = s.last;
        Self {
            id: s.id.to_string(),
            status: s.status.as_str().to_owned(),
            since: StatusSinceOut {
                seq: s.since.seq,
                occurred_on: s.since.occurred_on.map(|d| d.to_string()),
                recorded_at: rfc3339(s.since.recorded_at),
            },
            last_event: LastEventOut {
                seq: last.seq,
                status: last.event.status.as_str().to_owned(),
                occurred_on: last.event.occurred_on.map(|d| d.to_string()),
                place: last.event.place,
                reported_by: last.reported_by.to_string(),
                recorded_at: rfc3339(last.recorded_at),
            },
        }
    }
}

/// A person with every source's identity versions and the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub id: String,
    pub status: String,
    pub created_at: String,
    pub identities: Vec<IdentityVersionOut>,
    pub timeline: Vec<StatusOut>,
}

impl From<PersonRecord> for PersonOut {
    fn from(p: PersonRecord) -> Self {
        Self {
            id: p.id.to_string(),
            status: p.status.as_str().to_owned(),
            created_at: rfc3339(p.created_at),
            identities: p.identities.into_iter().map(Into::into).collect(),
            timeline: p.timeline.into_iter().map(Into::into).collect(),
        }
    }
}

/// Identity fields as text; validated on arrival. `family_name`,
/// `given_names`, `power` and `category` are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityIn {
    pub family_name: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    pub mother_maiden_name: Option<String>,
    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `DD.MM.YYYY`.
    pub birth_date: Option<String>,
    pub place_of_birth: Option<String>,
    pub rank: Option<String>,
    pub service_number: Option<String>,
    pub unit: Option<String>,
    /// The party on which the person depends.
    pub power: Option<String>,
    /// `military` or `civilian`.
    pub category: Option<String>,
    pub person_to_inform: Option<String>,
    pub correspondence_address: Option<String>,
}

impl IdentityIn {
    pub fn parse(self) -> Result<PersonIdentity, Vec<FieldError>> {
        RawIdentity {
            family_name: self.family_name,
            given_names: self.given_names,
            patronymic: self.patronymic,
            mother_maiden_name: self.mother_maiden_name,
            birth_date: self.birth_date,
            place_of_birth: self.place_of_birth,
            rank: self.rank,
            service_number: self.service_number,
            unit: self.unit,
            power: self.power,
            category: self.category,
            person_to_inform: self.person_to_inform,
            correspondence_address: self.correspondence_address,
        }
        .parse()
    }
}

/// A status event to report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusIn {
    /// One of homeward's statuses: missing, captured, held, hospitalised, nominated, handed_over,
    /// repatriated, family_contacted, released, escaped, refused_repatriation, deceased, remains_returned.
    #[schema(example = "held")]
    pub status: String,
    /// When it happened, as precisely as known.
    pub occurred_on: Option<String>,
    /// Camp, hospital, handover point, place of death.
    pub place: Option<String>,
    /// Cause of death, circumstances.
    pub details: Option<String>,
}

const MAX_PLACE: usize = 500;
const MAX_DETAILS: usize = 2000;

/// The free-text rule every input shares (`homeward_domain::text`).
fn free_text(field: &str, v: Option<String>, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    homeward_domain::text::free_text(field, v.as_deref(), max, errors)
}

impl StatusIn {
    pub fn parse(self) -> Result<StatusEvent, Vec<FieldError>> {
        let mut errors = Vec::new();
        let status = self.status.parse::<Status>().map_err(|e| errors.push(FieldError::new("status", e.to_string())));
        let occurred_on = match self.occurred_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => {
                PartialDate::parse(s).map_err(|e| errors.push(FieldError::new("occurred_on", e.to_string()))).ok()
            }
        };
        let place = free_text("place", self.place, MAX_PLACE, &mut errors);
        let details = free_text("details", self.details, MAX_DETAILS, &mut errors);
        match status {
            Ok(status) if errors.is_empty() => Ok(StatusEvent { status, occurred_on, place, details }),
            _ => Err(errors),
        }
    }
}

/// A person to register, as the caller's party.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPerson {
    /// The caller's own record id; re-registering it is refused (409).
    pub record_id: String,
    pub identity: IdentityIn,
    /// The first status: missing, captured, held, hospitalised or deceased.
    pub status: StatusIn,
}

/// The id of a created person.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// A party to the conflict, or the mediator.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyOut {
    pub code: String,
    pub name: String,
    /// `party` or `mediator`.
    pub kind: String,
}

/// A handover point.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverPointOut {
    pub code: String,
    pub name: String,
    pub country: String,
}

/// The conflict's setup.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictOut {
    pub name: String,
    pub parties: Vec<PartyOut>,
    pub handover_points: Vec<HandoverPointOut>,
}

/// A rejected CSV row: line, field and reason, never the value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowRejectionOut {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// What stopped reading the file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileProblemOut {
    pub line: u64,
    pub reason: String,
}

/// What an import did; nothing was written unless `committed`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReportOut {
    pub rows: u64,
    pub created: u64,
    pub amended: u64,
    pub unchanged: u64,
    pub status_events: u64,
    pub rejections: Vec<RowRejectionOut>,
    pub fatal: Option<FileProblemOut>,
    pub committed: bool,
}

impl From<homeward_service::import::ImportReport> for ImportReportOut {
    fn from(r: homeward_service::import::ImportReport) -> Self {
        Self {
            rows: r.rows,
            created: r.counts.created,
            amended: r.counts.amended,
            unchanged: r.counts.unchanged,
            status_events: r.counts.status_events,
            rejections: r
                .rejections
                .into_iter()
                .map(|x| RowRejectionOut { line: x.line, field: x.field, reason: x.reason })
                .collect(),
            fatal: r.fatal.map(|f| FileProblemOut { line: f.line, reason: f.reason }),
            committed: r.committed,
        }
    }
}

/// An import job: a CSV file imported in the background
/// (`POST /api/v1/imports/persons` with `Prefer: respond-async`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportJobOut {
    pub id: String,
    /// `queued`, `running`, then `committed` (the file landed whole), `validated` (a dry run with every
    /// row valid), `rejected` (rows rejected: nothing written) or `interrupted` (the server stopped or
    /// failed: nothing written).
    pub state: String,
    /// The party the rows are imported as.
    pub source: String,
    pub dry_run: bool,
    /// Data rows read so far (the header is not counted).
    pub rows_read: u64,
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Once the job has run to its end: the same report as the synchronous answer.
    pub report: Option<ImportReportOut>,
    /// Why an interrupted job has no report.
    pub message: Option<String>,
}

/// One read of a person's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessOut {
    pub seq: i64,
    pub at: String,
    pub user: String,
    pub username: Option<String>,
    pub role: String,
    pub person: String,
    pub endpoint: String,
    /// `shown`, or `refused`: the record exists but is outside the reader's
    /// scope, and the reader was answered "not found" (someone guessing ids
    /// shows up here, without being told).
    #[schema(example = "shown")]
    pub outcome: String,
}

/// A page of the access log, newest first. Pass `next_before` as `before` for older entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessPage {
    pub items: Vec<AccessOut>,
    pub next_before: Option<i64>,
}

/// An inclusion or consistency proof: base64 hashes, RFC 9162.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProofOut {
    pub proof: Vec<String>,
}
