//! Reads. Rows are turned back into domain types; a row that does not parse
//! (a hand-edited database) is an error, never a silent default.

use homeward_domain::{
    Category, ConflictSetup, HandoverPoint, PartialDate, Party, PartyCode, PartyKind, PersonId, PersonIdentity,
    SourceRef, Status, StatusEvent,
};
use homeward_store::{
    ExportRow, IdentityVersion, Keyring, Page, PersonFilter, PersonRecord, PersonStatus, PersonSummary, SealedIdentity,
    StatusRecord, StatusSince, StoreError, seal,
};
use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::backend_error;

fn bad(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("invalid {what}").into())
}

pub(crate) fn person_id(v: ValueRef<'_>) -> rusqlite::Result<PersonId> {
    let bytes = v.as_blob().map_err(|e: FromSqlError| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, e.into())
    })?;
    uuid::Uuid::from_slice(bytes).map(PersonId).map_err(|_| bad("person id"))
}

pub(crate) fn status(v: ValueRef<'_>) -> rusqlite::Result<Status> {
    v.as_str().ok().and_then(|s| s.parse().ok()).ok_or_else(|| bad("status"))
}

pub(crate) fn party(v: ValueRef<'_>) -> rusqlite::Result<PartyCode> {
    v.as_str().ok().and_then(|s| PartyCode::parse(s).ok()).ok_or_else(|| bad("party code"))
}

pub(crate) fn date(v: ValueRef<'_>) -> rusqlite::Result<Option<PartialDate>> {
    match v {
        ValueRef::Null => Ok(None),
        v => v.as_str().ok().and_then(|s| PartialDate::parse(s).ok()).map(Some).ok_or_else(|| bad("date")),
    }
}

fn timestamp(v: ValueRef<'_>) -> rusqlite::Result<OffsetDateTime> {
    v.as_str().ok().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok()).ok_or_else(|| bad("timestamp"))
}

/// status, occurred_on, place, details at columns 0-3.
pub(crate) fn event_from_row(r: &Row<'_>) -> rusqlite::Result<StatusEvent> {
    Ok(StatusEvent {
        status: status(r.get_ref(0)?)?,
        occurred_on: date(r.get_ref(1)?)?,
        place: r.get(2)?,
        details: r.get(3)?,
    })
}

/// The identity columns, in table order, starting at `at`.
pub(crate) const IDENTITY_COLUMNS: &str = "family_name, given_names, patronymic, mother_maiden_name, birth_date, place_of_birth, \
     rank, service_number, unit, power, category, person_to_inform, correspondence_address";

/// The contact fields come back sealed: [`SealedIdentity::open`] them.
pub(crate) fn identity_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<SealedIdentity> {
    Ok(SealedIdentity::from_row(PersonIdentity {
        family_name: r.get(at)?,
        given_names: r.get(at + 1)?,
        patronymic: r.get(at + 2)?,
        mother_maiden_name: r.get(at + 3)?,
        birth_date: date(r.get_ref(at + 4)?)?,
        place_of_birth: r.get(at + 5)?,
        rank: r.get(at + 6)?,
        service_number: r.get(at + 7)?,
        unit: r.get(at + 8)?,
        power: party(r.get_ref(at + 9)?)?,
        category: r.get_ref(at + 10)?.as_str().ok().and_then(Category::parse).ok_or_else(|| bad("category"))?,
        person_to_inform: r.get(at + 11)?,
        correspondence_address: r.get(at + 12)?,
    }))
}

pub(crate) fn conflict(c: &Connection) -> Result<Option<ConflictSetup>, StoreError> {
    let Some(name) = c
        .query_row("SELECT name FROM conflict WHERE id = 1", [], |r| r.get::<_, String>(0))
        .optional()
        .map_err(backend_error)?
    else {
        return Ok(None);
    };
    let mut st = c.prepare("SELECT code, name, kind FROM party ORDER BY code").map_err(backend_error)?;
    let parties = st
        .query_map([], |r| {
            Ok(Party {
                code: party(r.get_ref(0)?)?,
                name: r.get(1)?,
                kind: r.get_ref(2)?.as_str().ok().and_then(PartyKind::parse).ok_or_else(|| bad("party kind"))?,
            })
        })
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?;
    let mut st = c.prepare("SELECT code, name, country FROM handover_point ORDER BY code").map_err(backend_error)?;
    let handover_points = st
        .query_map([], |r| Ok(HandoverPoint { code: r.get(0)?, name: r.get(1)?, country: r.get(2)? }))
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?;
    Ok(Some(ConflictSetup { name, parties, handover_points }))
}

/// Two statements: the timeline with the person's row beside each event
/// (every person has at least its first event), then the identity versions.
pub(crate) fn person(c: &Connection, keys: &Keyring, id: PersonId) -> Result<Option<PersonRecord>, StoreError> {
    let mut head = None;
    let mut st = c
        .prepare_cached(
            "SELECT se.status, se.occurred_on, se.place, se.details, se.seq, se.reported_by, se.recorded_at,
                    p.status, p.created_at
             FROM person p JOIN status_event se ON se.person_id = p.id
             WHERE p.id = ?1 ORDER BY se.seq",
        )
        .map_err(backend_error)?;
    let timeline = st
        .query_map(params![id.0.as_bytes()], |r| {
            if head.is_none() {
                head = Some((status(r.get_ref(7)?)?, timestamp(r.get_ref(8)?)?));
            }
            Ok(StatusRecord {
                event: event_from_row(r)?,
                seq: r.get(4)?,
                reported_by: party(r.get_ref(5)?)?,
                recorded_at: timestamp(r.get_ref(6)?)?,
            })
        })
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?;
    let mut timeline = timeline;
    for r in &mut timeline {
        r.event.details = seal::open_details(keys, id, r.seq, r.event.details.take())?;
    }
    let Some((status, created_at)) = head else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT source, record_id, version, recorded_at, {IDENTITY_COLUMNS} FROM identity_version
         WHERE person_id = ?1 ORDER BY recorded_at, source, record_id, version"
    );
    let mut st = c.prepare_cached(&sql).map_err(backend_error)?;
    let identities = st
        .query_map(params![id.0.as_bytes()], |r| {
            Ok((
                SourceRef { source: party(r.get_ref(0)?)?, record_id: r.get(1)? },
                r.get::<_, u32>(2)?,
                timestamp(r.get_ref(3)?)?,
                identity_from_row(r, 4)?,
            ))
        })
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?
        .into_iter()
        .map(|(source, version, recorded_at, sealed)| {
            let name = seal::identity_name(source.source.as_str(), &source.record_id, version);
            Ok(IdentityVersion { identity: sealed.open(keys, name)?, source, version, recorded_at })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(PersonRecord { id, status, created_at, identities, timeline }))
}

/// [`homeward_store::Store::person_status`]: one statement, every step a
/// primary-key lookup (the person; its latest event by `status_seq`; the
/// start of the trailing run of events in the current status; the primary
/// identity's latest version).
/// The latest event's details are as stored (sealed): [`open_status`] opens
/// them (the status cache keeps them sealed).
pub(crate) fn person_status_sealed(c: &Connection, id: PersonId) -> Result<Option<PersonStatus>, StoreError> {
    c.prepare_cached(
        "SELECT p.status, p.primary_source, iv.power,
                se.status, se.occurred_on, se.place, se.details, se.seq, se.reported_by, se.recorded_at,
                since.seq, since.occurred_on, since.recorded_at
         FROM person p
         JOIN status_event se ON se.person_id = p.id AND se.seq = p.status_seq
         JOIN status_event since ON since.person_id = p.id
          AND since.seq = (SELECT coalesce(max(x.seq), 0) + 1 FROM status_event x
                           WHERE x.person_id = p.id AND x.status <> p.status)
         JOIN identity_version iv ON iv.source = p.primary_source AND iv.record_id = p.primary_record_id
          AND iv.version = (SELECT max(m.version) FROM identity_version m
                            WHERE m.source = p.primary_source AND m.record_id = p.primary_record_id)
         WHERE p.id = ?1",
    )
    .and_then(|mut st| {
        st.query_row(params![id.0.as_bytes()], |r| {
            Ok(PersonStatus {
                id,
                status: status(r.get_ref(0)?)?,
                source: party(r.get_ref(1)?)?,
                power: party(r.get_ref(2)?)?,
                last: StatusRecord {
                    event: StatusEvent {
                        status: status(r.get_ref(3)?)?,
                        occurred_on: date(r.get_ref(4)?)?,
                        place: r.get(5)?,
                        details: r.get(6)?,
                    },
                    seq: r.get(7)?,
                    reported_by: party(r.get_ref(8)?)?,
                    recorded_at: timestamp(r.get_ref(9)?)?,
                },
                since: StatusSince {
                    seq: r.get(10)?,
                    occurred_on: date(r.get_ref(11)?)?,
                    recorded_at: timestamp(r.get_ref(12)?)?,
                },
            })
        })
        .optional()
    })
    .map_err(backend_error)
}

/// Opens the sealed details of a status from [`person_status_sealed`].
pub(crate) fn open_status(keys: &Keyring, mut s: PersonStatus) -> Result<PersonStatus, StoreError> {
    s.last.event.details = seal::open_details(keys, s.id, s.last.seq, s.last.event.details.take())?;
    Ok(s)
}

pub(crate) fn list_persons(c: &Connection, f: &PersonFilter, page: &Page) -> Result<Vec<PersonSummary>, StoreError> {
    // One statement for every filter combination: a NULL parameter disables its condition.
    let mut st = c
        .prepare_cached(
            "SELECT p.id, p.status, iv.family_name, iv.given_names, iv.birth_date, iv.power, iv.source, iv.record_id
             FROM person p
             JOIN identity_version iv ON iv.source = p.primary_source AND iv.record_id = p.primary_record_id
              AND iv.version = (SELECT max(version) FROM identity_version m
                                WHERE m.source = p.primary_source AND m.record_id = p.primary_record_id)
             WHERE (?1 IS NULL OR p.id > ?1)
               AND (?2 IS NULL OR p.status = ?2)
               AND (?3 IS NULL OR iv.power = ?3)
               AND (?4 IS NULL OR p.primary_source = ?4)
             ORDER BY p.id LIMIT ?5",
        )
        .map_err(backend_error)?;
    let rows = st
        .query_map(
            params![
                page.after.map(|a| a.0.as_bytes().to_vec()),
                f.status.map(Status::as_str),
                f.power.as_ref().map(PartyCode::as_str),
                f.source.as_ref().map(PartyCode::as_str),
                page.limit.clamp(1, Page::MAX_LIMIT),
            ],
            |r| {
                Ok(PersonSummary {
                    id: person_id(r.get_ref(0)?)?,
                    status: status(r.get_ref(1)?)?,
                    family_name: r.get(2)?,
                    given_names: r.get(3)?,
                    birth_date: date(r.get_ref(4)?)?,
                    power: party(r.get_ref(5)?)?,
                    source: SourceRef { source: party(r.get_ref(6)?)?, record_id: r.get(7)? },
                })
            },
        )
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?;
    Ok(rows)
}

pub(crate) fn status_counts(c: &Connection) -> Result<Vec<(Status, u64)>, StoreError> {
    let mut st = c
        .prepare_cached("SELECT status, count(*) FROM person GROUP BY status ORDER BY status")
        .map_err(backend_error)?;
    let rows = st
        .query_map([], |r| Ok((status(r.get_ref(0)?)?, r.get::<_, i64>(1)? as u64)))
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?;
    let mut rows = rows;
    rows.sort_by_key(|(s, _)| *s);
    Ok(rows)
}

pub(crate) fn export_persons(
    c: &Connection,
    keys: &Keyring,
    sink: &tokio::sync::mpsc::Sender<ExportRow>,
) -> Result<u64, StoreError> {
    let sql = format!(
        "SELECT iv.person_id, iv.source, iv.record_id, iv.version, p.status, se.occurred_on, se.place, {IDENTITY_COLUMNS}
         FROM identity_version iv
         JOIN person p ON p.id = iv.person_id
         JOIN status_event se ON se.person_id = p.id AND se.seq = p.status_seq
         WHERE iv.version = (SELECT max(version) FROM identity_version m
                             WHERE m.source = iv.source AND m.record_id = iv.record_id)
         ORDER BY iv.source, iv.record_id"
    );
    let mut st = c.prepare(&sql).map_err(backend_error)?;
    let mut rows = st.query([]).map_err(backend_error)?;
    let mut n = 0;
    while let Some(r) = rows.next().map_err(backend_error)? {
        let row = export_row(r, keys)?;
        if sink.blocking_send(row).is_err() {
            // The reader went away (a closed pipe, a cancelled request): stop quietly.
            break;
        }
        n += 1;
    }
    Ok(n)
}

/// Identity versions whose log entries have leaf index in `start..end`. On
/// SQLite an entry's leaf index is its id - 1 (ids are dense, in commit
/// order), so this is a range on `identity_version.log_id`.
pub(crate) fn identities_in_leaves(
    c: &Connection,
    keys: &Keyring,
    start: u64,
    end: u64,
) -> Result<Vec<ExportRow>, StoreError> {
    let sql = format!(
        "SELECT iv.person_id, iv.source, iv.record_id, iv.version, p.status, se.occurred_on, se.place, {IDENTITY_COLUMNS}
         FROM identity_version iv
         JOIN person p ON p.id = iv.person_id
         JOIN status_event se ON se.person_id = p.id AND se.seq = p.status_seq
         WHERE iv.log_id > ?1 AND iv.log_id <= ?2
         ORDER BY iv.log_id"
    );
    let mut st = c.prepare_cached(&sql).map_err(backend_error)?;
    let mut rows = st.query(rusqlite::params![start as i64, end as i64]).map_err(backend_error)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(backend_error)? {
        out.push(export_row(r, keys)?);
    }
    Ok(out)
}

fn export_row(r: &rusqlite::Row<'_>, keys: &Keyring) -> Result<ExportRow, StoreError> {
    let (person_id, source, version, status, status_occurred_on, status_place, sealed) = (|| {
        Ok::<_, rusqlite::Error>((
            person_id(r.get_ref(0)?)?,
            SourceRef { source: party(r.get_ref(1)?)?, record_id: r.get(2)? },
            r.get::<_, u32>(3)?,
            status(r.get_ref(4)?)?,
            date(r.get_ref(5)?)?,
            r.get(6)?,
            identity_from_row(r, 7)?,
        ))
    })()
    .map_err(backend_error)?;
    let identity = sealed.open(keys, seal::identity_name(source.source.as_str(), &source.record_id, version))?;
    Ok(ExportRow { person_id, source, version, status, status_occurred_on, status_place, identity })
}
