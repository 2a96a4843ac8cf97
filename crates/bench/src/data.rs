//! The rows both sides write: import rows from the deterministic demo
//! generator, status events, and their plain-table twins (the same values,
//! so the same columns and the same sizes; random salts and commitments).

use homeward_demo::{DemoPersons, demo_persons};
use homeward_domain::{PartialDate, PartyCode, PersonId, Status, StatusEvent};
use homeward_store::{ImportRow, NewPerson};

use crate::Rng;

/// A stream of fresh persons (each record id is used once).
#[derive(Debug)]
pub struct Workload {
    persons: DemoPersons,
    line: u64,
    pub rng: Rng,
}

impl Workload {
    pub fn new(seed: u64) -> Self {
        Self { persons: demo_persons(seed, 100_000_000), line: 0, rng: Rng::new(seed) }
    }

    /// `n` import rows of new persons, each with its first status (as the CSV gives it).
    pub fn import_rows(&mut self, n: usize) -> Vec<ImportRow> {
        let mut rows = Vec::with_capacity(n);
        while rows.len() < n {
            let p = self.persons.next().expect("enough demo persons");
            let Some(first) = p.snapshot().cloned() else { continue };
            self.line += 1;
            rows.push(ImportRow::new(self.line, p.source, p.identity, Some(first)));
        }
        rows
    }

    /// A new person held since 2025, for the single-change benchmark.
    pub fn held_person(&mut self) -> NewPerson {
        let p = self.persons.next().expect("enough demo persons");
        NewPerson { source: p.source, identity: p.identity, first_status: transfer(0) }
    }
}

/// A transfer to another camp: `held` after `held` is always allowed, so
/// the same persons take any number of them.
pub fn transfer(i: usize) -> StatusEvent {
    StatusEvent {
        status: Status::Held,
        occurred_on: Some(PartialDate::new(2025, Some(1 + (i % 12) as u8), Some(1 + (i % 28) as u8)).expect("date")),
        place: Some(format!("Penal colony No. {}, Region {}", 10 + i % 89, 1 + i % 23)),
        details: None,
    }
}

/// Fixed-width timestamps as homeward stores them.
pub const RECORDED_AT: &str = "2026-06-19T12:00:00.000Z";

/// A status event row as `status_event` holds it.
#[derive(Debug, Clone)]
pub struct PlainEvent {
    pub person_id: [u8; 16],
    pub seq: i64,
    pub status: &'static str,
    pub occurred_on: Option<String>,
    pub place: Option<String>,
    pub details: Option<String>,
    pub reported_by: String,
    pub recorded_at: &'static str,
    pub log_id: i64,
}

/// A log entry row as `log_entry` holds it.
#[derive(Debug, Clone)]
pub struct PlainEntry {
    pub id: i64,
    pub time_ms: i64,
    pub actor_role: &'static str,
    pub actor_party: Option<String>,
    pub event_type: &'static str,
    pub record_type: &'static str,
    pub record_id: String,
    pub salt: [u8; 32],
    pub commitment: [u8; 32],
}

/// What an import of one new person writes: the person, its first identity
/// version, its first status event, and (for the "+ entries" baseline) the
/// two log entries.
#[derive(Debug, Clone)]
pub struct PlainPerson {
    pub id: [u8; 16],
    pub status: &'static str,
    pub source: String,
    pub record_id: String,
    pub identity_id: String,
    pub fingerprint: [u8; 32],
    pub identity: [Option<String>; 13],
    pub event: PlainEvent,
    pub entries: [PlainEntry; 2],
}

fn entry(
    rng: &mut Rng,
    id: i64,
    party: &str,
    event_type: &'static str,
    record_type: &'static str,
    record_id: String,
) -> PlainEntry {
    PlainEntry {
        id,
        time_ms: 1_781_870_400_000 + id,
        actor_role: "party_officer",
        actor_party: Some(party.to_owned()),
        event_type,
        record_type,
        record_id,
        salt: rng.bytes32(),
        commitment: rng.bytes32(),
    }
}

/// The plain twin of a status event appended to `person`.
pub fn plain_event(
    rng: &mut Rng,
    id: i64,
    person: PersonId,
    seq: u32,
    e: &StatusEvent,
    by: &PartyCode,
) -> (PlainEvent, PlainEntry) {
    let ev = PlainEvent {
        person_id: *person.0.as_bytes(),
        seq: i64::from(seq),
        status: e.status.as_str(),
        occurred_on: e.occurred_on.map(|d| d.to_string()),
        place: e.place.clone(),
        details: e.details.clone(),
        reported_by: by.to_string(),
        recorded_at: RECORDED_AT,
        log_id: id,
    };
    let en = entry(rng, id, by.as_str(), "status.recorded", "status_event", format!("person/{person}/status/{seq}"));
    (ev, en)
}

/// The plain twin of an import row that creates a person.
pub fn plain_person(rng: &mut Rng, first_id: i64, row: &ImportRow) -> PlainPerson {
    let person = PersonId::new();
    let identity_id = PersonId::new().to_string();
    let i = row.identity();
    let e = row.status.as_ref().expect("a first status");
    let source = row.source.source.to_string();
    let (event, event_entry) = plain_event(rng, first_id + 1, person, 1, e, &row.source.source);
    let identity_entry =
        entry(rng, first_id, &source, "person.registered", "identity_version", format!("identity/{identity_id}"));
    PlainPerson {
        id: *person.0.as_bytes(),
        status: e.status.as_str(),
        source,
        record_id: row.source.record_id.clone(),
        identity_id,
        fingerprint: row.identity().unkeyed_fingerprint(),
        identity: [
            Some(i.family_name.clone()),
            Some(i.given_names.clone()),
            i.patronymic.clone(),
            i.mother_maiden_name.clone(),
            i.birth_date.map(|d| d.to_string()),
            i.place_of_birth.clone(),
            i.rank.clone(),
            i.service_number.clone(),
            i.unit.clone(),
            Some(i.power.to_string()),
            Some(i.category.as_str().to_owned()),
            i.person_to_inform.clone(),
            i.correspondence_address.clone(),
        ],
        event,
        entries: [identity_entry, event_entry],
    }
}
