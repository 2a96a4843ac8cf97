//! Single writes, each one transaction, and the row helpers the import shares.

use std::collections::HashSet;

use homeward_domain::{ConflictSetup, PartyCode, PersonId, PersonIdentity, SourceRef, Status, StatusEvent};
use homeward_store::{Keyring, NewPerson, Refusal, StatusRecord, StoreError, seal};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use homeward_store::LoggedRecord;
use homeward_store::log::{self as hlog, event, record};

use crate::backend_error;
use crate::log::Appender;

/// Fixed-width UTC timestamps, so that text order is time order.
const TIMESTAMP: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

pub(crate) fn now() -> (OffsetDateTime, String) {
    let now = OffsetDateTime::now_utc();
    // Millisecond precision: the same on both backends, and round-trips exactly.
    let now = now.replace_nanosecond(now.millisecond() as u32 * 1_000_000).expect("valid ns");
    (now, now.format(TIMESTAMP).expect("formats"))
}

pub(crate) fn set_conflict(c: &mut Connection, keys: &Keyring, setup: &ConflictSetup) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    if let Some(existing) = crate::read::conflict(&tx)? {
        if existing == setup.clone().canonical() {
            return Ok(());
        }
        let persons: i64 = tx.query_row("SELECT count(*) FROM person", [], |r| r.get(0)).map_err(backend_error)?;
        if persons > 0 {
            return Err(Refusal::SetupHasRecords.into());
        }
        tx.execute_batch("DELETE FROM handover_point; DELETE FROM party; DELETE FROM conflict;")
            .map_err(backend_error)?;
    }
    let (_, now) = now();
    tx.execute("INSERT INTO conflict (id, name, created_at) VALUES (1, ?1, ?2)", params![setup.name, now])
        .map_err(backend_error)?;
    for p in &setup.parties {
        tx.execute(
            "INSERT INTO party (code, name, kind) VALUES (?1, ?2, ?3)",
            params![p.code.as_str(), p.name, p.kind.as_str()],
        )
        .map_err(backend_error)?;
    }
    for h in &setup.handover_points {
        tx.execute(
            "INSERT INTO handover_point (code, name, country) VALUES (?1, ?2, ?3)",
            params![h.code, h.name, h.country],
        )
        .map_err(backend_error)?;
    }
    let mut log = Appender::new(&tx, keys)?;
    let record = LoggedRecord::Conflict { setup: setup.clone() };
    let log_id =
        log.append(&tx, None, event::CONFLICT_SET, record.record_type(), &record.record_id(), &record.content())?;
    tx.execute("UPDATE conflict SET log_id = ?1 WHERE id = 1", params![log_id]).map_err(backend_error)?;
    tx.commit().map_err(backend_error)
}

pub(crate) fn party_codes(c: &Connection) -> Result<HashSet<String>, StoreError> {
    let mut st = c.prepare_cached("SELECT code FROM party").map_err(backend_error)?;
    let codes = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(backend_error)?
        .collect::<Result<HashSet<_>, _>>()
        .map_err(backend_error)?;
    Ok(codes)
}

/// Checks the party codes a record names against the conflict's parties.
pub(crate) fn check_parties(
    parties: &HashSet<String>,
    source: &SourceRef,
    identity: &PersonIdentity,
) -> Result<(), StoreError> {
    if parties.is_empty() {
        return Err(StoreError::NoConflict);
    }
    if !parties.contains(source.source.as_str()) {
        return Err(StoreError::UnknownParty { field: "source", code: source.source.to_string() });
    }
    if !parties.contains(identity.power.as_str()) {
        return Err(StoreError::UnknownParty { field: "power", code: identity.power.to_string() });
    }
    Ok(())
}

pub(crate) fn add_person(c: &mut Connection, keys: &Keyring, new: NewPerson) -> Result<PersonId, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    let parties = party_codes(&tx)?;
    check_parties(&parties, &new.source, &new.identity)?;
    Status::check_transition(None, new.first_status.status)?;
    if latest_identity(&tx, &new.source)?.is_some() {
        return Err(Refusal::DuplicateSourceRecord { party: new.source.source.to_string() }.into());
    }
    let id = PersonId::new();
    let (_, now) = now();
    let mut log = Appender::new(&tx, keys)?;
    insert_person(&tx, id, new.first_status.status, &new.source, &now)?;
    insert_identity(&tx, keys, &mut log, id, &new.source, 1, &now, &new.identity, &keys.fingerprint(&new.identity))?;
    insert_event(&tx, keys, &mut log, id, 1, &new.first_status, &new.source.source, &now)?;
    tx.commit().map_err(backend_error)?;
    Ok(id)
}

pub(crate) fn add_status_event(
    c: &mut Connection,
    keys: &Keyring,
    id: PersonId,
    event: StatusEvent,
    reported_by: &PartyCode,
) -> Result<StatusRecord, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    if !party_codes(&tx)?.contains(reported_by.as_str()) {
        return Err(StoreError::UnknownParty { field: "reported_by", code: reported_by.to_string() });
    }
    let (current, seq) = current_status(&tx, id)?.ok_or(StoreError::NotFound("person"))?;
    Status::check_transition(Some(current), event.status)?;
    let (recorded_at, now) = now();
    let mut log = Appender::new(&tx, keys)?;
    insert_event(&tx, keys, &mut log, id, seq + 1, &event, reported_by, &now)?;
    tx.commit().map_err(backend_error)?;
    Ok(StatusRecord { seq: seq + 1, event, reported_by: reported_by.clone(), recorded_at })
}

pub(crate) fn insert_person(
    c: &Connection,
    id: PersonId,
    status: Status,
    source: &SourceRef,
    now: &str,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO person (id, status, status_seq, primary_source, primary_record_id, created_at)
         VALUES (?1, ?2, 1, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![id.0.as_bytes(), status.as_str(), source.source.as_str(), source.record_id, now])
    })
    .map_err(backend_error)?;
    Ok(())
}

/// Writes an identity version and its log entry.
#[expect(clippy::too_many_arguments, reason = "the row's parts")]
pub(crate) fn insert_identity(
    c: &Connection,
    keys: &Keyring,
    log: &mut Appender,
    person: PersonId,
    source: &SourceRef,
    version: u32,
    now: &str,
    i: &PersonIdentity,
    fingerprint: &[u8; 32],
) -> Result<(), StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let event_type = if version == 1 { event::PERSON_REGISTERED } else { event::IDENTITY_AMENDED };
    let content = hlog::identity_content(&id, person, source, version, i);
    let (person_to_inform, correspondence_address) = seal::seal_contacts(keys, i);
    let log_id = log.append(
        c,
        Some(source.source.as_str()),
        event_type,
        record::IDENTITY_VERSION,
        &record::identity_id(&id),
        &content,
    )?;
    c.prepare_cached(
        "INSERT INTO identity_version (source, record_id, version, person_id, recorded_at, fingerprint,
            family_name, given_names, patronymic, mother_maiden_name, birth_date, place_of_birth, rank,
            service_number, unit, power, category, person_to_inform, correspondence_address, id, log_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    )
    .and_then(|mut st| {
        st.execute(params![
            source.source.as_str(),
            source.record_id,
            version,
            person.0.as_bytes(),
            now,
            fingerprint,
            i.family_name,
            i.given_names,
            i.patronymic,
            i.mother_maiden_name,
            i.birth_date.map(|d| d.to_string()),
            i.place_of_birth,
            i.rank,
            i.service_number,
            i.unit,
            i.power.as_str(),
            i.category.as_str(),
            person_to_inform,
            correspondence_address,
            id,
            log_id,
        ])
    })
    .map_err(backend_error)?;
    Ok(())
}

/// Appends event `seq` with its log entry, and moves the person's current status to it.
#[expect(clippy::too_many_arguments, reason = "the row's parts")]
pub(crate) fn insert_event(
    c: &Connection,
    keys: &Keyring,
    log: &mut Appender,
    person: PersonId,
    seq: u32,
    e: &StatusEvent,
    reported_by: &PartyCode,
    now: &str,
) -> Result<(), StoreError> {
    let content = hlog::status_content(person, seq, e, reported_by.as_str());
    let log_id = log.append(
        c,
        Some(reported_by.as_str()),
        event::STATUS_RECORDED,
        record::STATUS_EVENT,
        &record::status_id(person, seq),
        &content,
    )?;
    c.prepare_cached(
        "INSERT INTO status_event (person_id, seq, status, occurred_on, place, details, reported_by, recorded_at, log_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut st| {
        st.execute(params![
            person.0.as_bytes(),
            seq,
            e.status.as_str(),
            e.occurred_on.map(|d| d.to_string()),
            e.place,
            seal::seal_details(keys, e.details.as_deref()),
            reported_by.as_str(),
            now,
            log_id
        ])
    })
    .map_err(backend_error)?;
    if seq > 1 {
        c.prepare_cached("UPDATE person SET status = ?2, status_seq = ?3 WHERE id = ?1")
            .and_then(|mut st| st.execute(params![person.0.as_bytes(), e.status.as_str(), seq]))
            .map_err(backend_error)?;
    }
    Ok(())
}

/// The person, latest version and fingerprint of a source record, if it exists.
/// The latest identity version of a source record: person, version, fingerprint, fingerprint scheme.
pub(crate) type Latest = (PersonId, u32, Vec<u8>, i64);

pub(crate) fn latest_identity(c: &Connection, source: &SourceRef) -> Result<Option<Latest>, StoreError> {
    c.prepare_cached(
        "SELECT person_id, version, fingerprint, fingerprint_scheme FROM identity_version
         WHERE source = ?1 AND record_id = ?2 ORDER BY version DESC LIMIT 1",
    )
    .and_then(|mut st| {
        st.query_row(params![source.source.as_str(), source.record_id], |r| {
            Ok((
                crate::read::person_id(r.get_ref(0)?)?,
                r.get::<_, u32>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .optional()
    })
    .map_err(backend_error)
}

pub(crate) fn current_status(c: &Connection, id: PersonId) -> Result<Option<(Status, u32)>, StoreError> {
    c.prepare_cached("SELECT status, status_seq FROM person WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row(params![id.0.as_bytes()], |r| Ok((crate::read::status(r.get_ref(0)?)?, r.get::<_, u32>(1)?)))
                .optional()
        })
        .map_err(backend_error)
}

/// The latest event, to tell a re-imported status from a new one: its
/// details opened, so the comparison is of plaintext.
pub(crate) fn event_at(c: &Connection, keys: &Keyring, id: PersonId, seq: u32) -> Result<StatusEvent, StoreError> {
    let mut e = c
        .prepare_cached(
            "SELECT status, occurred_on, place, details FROM status_event WHERE person_id = ?1 AND seq = ?2",
        )
        .and_then(|mut st| st.query_row(params![id.0.as_bytes(), seq], crate::read::event_from_row))
        .map_err(backend_error)?;
    e.details = seal::open_details(keys, id, seq, e.details)?;
    Ok(e)
}
