//! The records the store reads and writes.

use homeward_domain::{PartialDate, PartyCode, PersonId, PersonIdentity, SourceRef, Status, StatusEvent};
use serde::Serialize;
use time::OffsetDateTime;

/// A person to register: one source's identity and the first status.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub source: SourceRef,
    pub identity: PersonIdentity,
    pub first_status: StatusEvent,
}

/// One source's version of a person's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityVersion {
    pub source: SourceRef,
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub identity: PersonIdentity,
}

/// A stored status event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRecord {
    pub seq: u32,
    #[serde(flatten)]
    pub event: StatusEvent,
    pub reported_by: PartyCode,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// A person with everything the registry knows, for those allowed to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRecord {
    pub id: PersonId,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub identities: Vec<IdentityVersion>,
    pub timeline: Vec<StatusRecord>,
}

/// A person's current status, in one indexed read: the event that set it,
/// the event from which the person has been in it (a transfer keeps `held`),
/// and what the visibility rule needs (the primary identity's power and
/// source), but no identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonStatus {
    pub id: PersonId,
    pub status: Status,
    /// The primary identity's power (at its latest version).
    pub power: PartyCode,
    /// The party whose record created the person.
    pub source: PartyCode,
    /// The first event of the trailing run of events in `status`.
    pub since: StatusSince,
    /// The latest event.
    pub last: StatusRecord,
}

/// When the current status began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusSince {
    pub seq: u32,
    pub occurred_on: Option<PartialDate>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// A line of a listing: the first source's latest identity, and the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonSummary {
    pub id: PersonId,
    pub status: Status,
    pub family_name: String,
    pub given_names: String,
    pub birth_date: Option<PartialDate>,
    pub power: PartyCode,
    pub source: SourceRef,
}

/// Filters for a listing; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub status: Option<Status>,
    pub power: Option<PartyCode>,
    pub source: Option<PartyCode>,
}

/// Keyset pagination: ids are time-ordered UUIDs, so "after this id" is stable
/// while records are added.
#[derive(Debug, Clone)]
pub struct Page {
    pub after: Option<PersonId>,
    pub limit: u32,
}

impl Page {
    pub const MAX_LIMIT: u32 = 1000;

    pub fn first(limit: u32) -> Self {
        Self { after: None, limit: limit.clamp(1, Self::MAX_LIMIT) }
    }
}

/// A validated row of an import, with its line for error reports.
///
/// The identity's canonical JSON is made when the row is made, on the thread
/// that parses the file, not in the store's write path (the store keys it:
/// [`crate::Keyring::fingerprint_canonical`]); the identity is private so that
/// it cannot go stale.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: u64,
    pub source: SourceRef,
    identity: PersonIdentity,
    canonical: Vec<u8>,
    pub status: Option<StatusEvent>,
    /// Who reported the status, when not the source itself (a mediator at a
    /// handover, a family). `None`: the source.
    pub reported_by: Option<PartyCode>,
}

impl ImportRow {
    pub fn new(line: u64, source: SourceRef, identity: PersonIdentity, status: Option<StatusEvent>) -> Self {
        let canonical = identity.canonical_json();
        Self { line, source, identity, canonical, status, reported_by: None }
    }

    /// Sets who reported the status, when not the source itself.
    pub fn reported_by(mut self, party: PartyCode) -> Self {
        self.reported_by = Some(party);
        self
    }

    pub fn identity(&self) -> &PersonIdentity {
        &self.identity
    }

    /// `PersonIdentity::canonical_json` of the identity.
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }
}

/// A row the store refused, with the field and the reason (never the value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowRejection {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// New persons.
    pub created: u64,
    /// Existing source records whose identity changed: a new version.
    pub amended: u64,
    /// Rows identical to what is stored.
    pub unchanged: u64,
    /// Status events appended (first statuses of new persons included).
    pub status_events: u64,
}

/// One exported row: a source record's latest identity with the person's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    pub person_id: PersonId,
    pub source: SourceRef,
    pub version: u32,
    pub identity: PersonIdentity,
    pub status: Status,
    pub status_occurred_on: Option<PartialDate>,
    pub status_place: Option<String>,
}
