//! Row-level statements and conversions shared by the operations and the import.

use futures_util::TryStreamExt;
use homeward_domain::{
    Category, ConflictSetup, HandoverPoint, PartialDate, Party, PartyCode, PartyKind, PersonId, PersonIdentity,
    SourceRef, Status, StatusEvent,
};
use homeward_store::log::{self as hlog, event, record};
use homeward_store::{
    ExportRow, IdentityVersion, Keyring, Page, PersonFilter, PersonRecord, PersonStatus, PersonSummary, SealedIdentity,
    StatusRecord, StatusSince, StoreError, seal,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::log::Appender;

/// PostgreSQL's messages can quote a row's values (a unique violation's
/// DETAIL does): they go to the debug log only; the caller gets the SQLSTATE.
pub(crate) fn backend_error(e: sqlx::Error) -> StoreError {
    tracing::debug!(error = %e, "postgres error");
    let summary = match &e {
        sqlx::Error::Database(d) => {
            format!("PostgreSQL error {}", d.code().map(|c| c.into_owned()).unwrap_or_default())
        }
        sqlx::Error::PoolTimedOut => "PostgreSQL: no connection available in time".into(),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => "PostgreSQL: cannot reach the server".into(),
        _ => "PostgreSQL: statement failed".into(),
    };
    StoreError::Database { summary, source: Box::new(e) }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} does not parse"))
}

pub(crate) fn status(s: String) -> Result<Status, StoreError> {
    s.parse().map_err(|_| corrupt("status"))
}

pub(crate) fn party(s: String) -> Result<PartyCode, StoreError> {
    PartyCode::parse(&s).map_err(|_| corrupt("party code"))
}

pub(crate) fn date(s: Option<String>) -> Result<Option<PartialDate>, StoreError> {
    s.map(|s| PartialDate::parse(&s).map_err(|_| corrupt("date"))).transpose()
}

pub(crate) fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    r: &'r PgRow,
    i: usize,
) -> Result<T, StoreError> {
    r.try_get(i).map_err(backend_error)
}

/// The identity columns in table order, as a literal so that statements stay `&'static str`.
#[macro_export]
macro_rules! identity_columns {
    () => {
        "family_name, given_names, patronymic, mother_maiden_name, birth_date, place_of_birth, \
         rank, service_number, unit, power, category, person_to_inform, correspondence_address"
    };
}

/// The identity columns from `at`, with the contact fields opened; `record`
/// names the row in an error (see [`seal::identity_name`]).
pub(crate) fn identity(r: &PgRow, at: usize, keys: &Keyring, record: String) -> Result<PersonIdentity, StoreError> {
    SealedIdentity::from_row(PersonIdentity {
        family_name: get(r, at)?,
        given_names: get(r, at + 1)?,
        patronymic: get(r, at + 2)?,
        mother_maiden_name: get(r, at + 3)?,
        birth_date: date(get(r, at + 4)?)?,
        place_of_birth: get(r, at + 5)?,
        rank: get(r, at + 6)?,
        service_number: get(r, at + 7)?,
        unit: get(r, at + 8)?,
        power: party(get(r, at + 9)?)?,
        category: Category::parse(&get::<String>(r, at + 10)?).ok_or_else(|| corrupt("category"))?,
        person_to_inform: get(r, at + 11)?,
        correspondence_address: get(r, at + 12)?,
    })
    .open(keys, record)
}

/// status, occurred_on, place, details at columns 0-3, of `person`'s event
/// `seq`; the details opened.
pub(crate) fn event(r: &PgRow, keys: &Keyring, person: PersonId, seq: u32) -> Result<StatusEvent, StoreError> {
    Ok(StatusEvent {
        status: status(get(r, 0)?)?,
        occurred_on: date(get(r, 1)?)?,
        place: get(r, 2)?,
        details: seal::open_details(keys, person, seq, get(r, 3)?)?,
    })
}

pub(crate) async fn conflict(c: &mut PgConnection) -> Result<Option<ConflictSetup>, StoreError> {
    let Some(name) = sqlx::query_scalar::<_, String>("SELECT name FROM conflict WHERE id = 1")
        .fetch_optional(&mut *c)
        .await
        .map_err(backend_error)?
    else {
        return Ok(None);
    };
    let parties = sqlx::query("SELECT code, name, kind FROM party ORDER BY code COLLATE \"C\"")
        .fetch_all(&mut *c)
        .await
        .map_err(backend_error)?
        .iter()
        .map(|r| {
            Ok(Party {
                code: party(get(r, 0)?)?,
                name: get(r, 1)?,
                kind: PartyKind::parse(&get::<String>(r, 2)?).ok_or_else(|| corrupt("party kind"))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let handover_points = sqlx::query("SELECT code, name, country FROM handover_point ORDER BY code COLLATE \"C\"")
        .fetch_all(&mut *c)
        .await
        .map_err(backend_error)?
        .iter()
        .map(|r| Ok(HandoverPoint { code: get(r, 0)?, name: get(r, 1)?, country: get(r, 2)? }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(ConflictSetup { name, parties, handover_points }))
}

/// The latest identity version of a source record: person, version, fingerprint, fingerprint scheme.
pub(crate) type Latest = (PersonId, u32, Vec<u8>, i64);

pub(crate) async fn latest_identity(c: &mut PgConnection, source: &SourceRef) -> Result<Option<Latest>, StoreError> {
    let row = sqlx::query(
        "SELECT person_id, version, fingerprint, fingerprint_scheme::bigint FROM identity_version
         WHERE source = $1 AND record_id = $2 ORDER BY version DESC LIMIT 1",
    )
    .bind(source.source.as_str())
    .bind(&source.record_id)
    .fetch_optional(&mut *c)
    .await
    .map_err(backend_error)?;
    row.map(|r| Ok((PersonId(get(&r, 0)?), get::<i32>(&r, 1)? as u32, get(&r, 2)?, get(&r, 3)?))).transpose()
}

pub(crate) async fn insert_person(
    c: &mut PgConnection,
    id: PersonId,
    status: Status,
    source: &SourceRef,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO person (id, status, status_seq, primary_source, primary_record_id, created_at)
         VALUES ($1, $2, 1, $3, $4, $5)",
    )
    .bind(id.0)
    .bind(status.as_str())
    .bind(source.source.as_str())
    .bind(&source.record_id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(backend_error)?;
    Ok(())
}

/// Writes an identity version and its log entry.
#[expect(clippy::too_many_arguments, reason = "the row's parts")]
pub(crate) async fn insert_identity(
    c: &mut PgConnection,
    keys: &Keyring,
    log: &Appender,
    person: PersonId,
    source: &SourceRef,
    version: u32,
    now: OffsetDateTime,
    i: &PersonIdentity,
    fingerprint: &[u8; 32],
) -> Result<(), StoreError> {
    let id = Uuid::now_v7().to_string();
    let event_type = if version == 1 { event::PERSON_REGISTERED } else { event::IDENTITY_AMENDED };
    let content = hlog::identity_content(&id, person, source, version, i);
    let (person_to_inform, correspondence_address) = seal::seal_contacts(keys, i);
    let log_id = log
        .append(
            &mut *c,
            Some(source.source.as_str()),
            event_type,
            record::IDENTITY_VERSION,
            &record::identity_id(&id),
            &content,
        )
        .await?;
    sqlx::query(
        "INSERT INTO identity_version (source, record_id, version, person_id, recorded_at, fingerprint,
            family_name, given_names, patronymic, mother_maiden_name, birth_date, place_of_birth, rank,
            service_number, unit, power, category, person_to_inform, correspondence_address, id, log_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(source.source.as_str())
    .bind(&source.record_id)
    .bind(version as i32)
    .bind(person.0)
    .bind(now)
    .bind(fingerprint.as_slice())
    .bind(&i.family_name)
    .bind(&i.given_names)
    .bind(&i.patronymic)
    .bind(&i.mother_maiden_name)
    .bind(i.birth_date.map(|d| d.to_string()))
    .bind(&i.place_of_birth)
    .bind(&i.rank)
    .bind(&i.service_number)
    .bind(&i.unit)
    .bind(i.power.as_str())
    .bind(i.category.as_str())
    .bind(person_to_inform)
    .bind(correspondence_address)
    .bind(&id)
    .bind(log_id)
    .execute(&mut *c)
    .await
    .map_err(backend_error)?;
    Ok(())
}

/// Appends event `seq` with its log entry, and moves the person's current status to it.
#[expect(clippy::too_many_arguments, reason = "the row's parts")]
pub(crate) async fn insert_event(
    c: &mut PgConnection,
    keys: &Keyring,
    log: &Appender,
    person: PersonId,
    seq: u32,
    e: &StatusEvent,
    reported_by: &PartyCode,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let content = hlog::status_content(person, seq, e, reported_by.as_str());
    let log_id = log
        .append(
            &mut *c,
            Some(reported_by.as_str()),
            event::STATUS_RECORDED,
            record::STATUS_EVENT,
            &record::status_id(person, seq),
            &content,
        )
        .await?;
    sqlx::query(
        "INSERT INTO status_event (person_id, seq, status, occurred_on, place, details, reported_by, recorded_at, log_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(person.0)
    .bind(seq as i32)
    .bind(e.status.as_str())
    .bind(e.occurred_on.map(|d| d.to_string()))
    .bind(&e.place)
    .bind(seal::seal_details(keys, e.details.as_deref()))
    .bind(reported_by.as_str())
    .bind(now)
    .bind(log_id)
    .execute(&mut *c)
    .await
    .map_err(backend_error)?;
    if seq > 1 {
        sqlx::query("UPDATE person SET status = $2, status_seq = $3 WHERE id = $1")
            .bind(person.0)
            .bind(e.status.as_str())
            .bind(seq as i32)
            .execute(&mut *c)
            .await
            .map_err(backend_error)?;
    }
    Ok(())
}

/// The current status, locking the person row until the transaction ends.
pub(crate) async fn current_status_for_update(
    c: &mut PgConnection,
    id: PersonId,
) -> Result<Option<(Status, u32)>, StoreError> {
    let row = sqlx::query("SELECT status, status_seq FROM person WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(backend_error)?;
    row.map(|r| Ok((status(get(&r, 0)?)?, get::<i32>(&r, 1)? as u32))).transpose()
}

/// The latest event, to tell a re-imported status from a new one: its
/// details opened, so the comparison is of plaintext.
pub(crate) async fn event_at(
    c: &mut PgConnection,
    keys: &Keyring,
    id: PersonId,
    seq: u32,
) -> Result<StatusEvent, StoreError> {
    let r =
        sqlx::query("SELECT status, occurred_on, place, details FROM status_event WHERE person_id = $1 AND seq = $2")
            .bind(id.0)
            .bind(seq as i32)
            .fetch_one(&mut *c)
            .await
            .map_err(backend_error)?;
    event(&r, keys, id, seq)
}

/// Two statements: the timeline with the person's row beside each event
/// (every person has at least its first event), then the identity versions.
pub(crate) async fn person(
    c: &mut PgConnection,
    keys: &Keyring,
    id: PersonId,
) -> Result<Option<PersonRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT se.status, se.occurred_on, se.place, se.details, se.seq, se.reported_by, se.recorded_at,
                p.status, p.created_at
         FROM person p JOIN status_event se ON se.person_id = p.id
         WHERE p.id = $1 ORDER BY se.seq",
    )
    .bind(id.0)
    .fetch_all(&mut *c)
    .await
    .map_err(backend_error)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let (st, created_at) = (status(get(first, 7)?)?, get::<OffsetDateTime>(first, 8)?);
    let timeline = rows
        .iter()
        .map(|r| {
            let seq = get::<i32>(r, 4)? as u32;
            Ok(StatusRecord {
                event: event(r, keys, id, seq)?,
                seq,
                reported_by: party(get(r, 5)?)?,
                recorded_at: get(r, 6)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let identities = sqlx::query(concat!(
        "SELECT source, record_id, version, recorded_at, ",
        identity_columns!(),
        " FROM identity_version WHERE person_id = $1 ORDER BY recorded_at, source, record_id, version"
    ))
    .bind(id.0)
    .fetch_all(&mut *c)
    .await
    .map_err(backend_error)?
    .iter()
    .map(|r| {
        let source = SourceRef { source: party(get(r, 0)?)?, record_id: get(r, 1)? };
        let version = get::<i32>(r, 2)? as u32;
        let name = seal::identity_name(source.source.as_str(), &source.record_id, version);
        Ok(IdentityVersion { recorded_at: get(r, 3)?, identity: identity(r, 4, keys, name)?, source, version })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(PersonRecord { id, status: st, created_at, identities, timeline }))
}

/// [`homeward_store::Store::person_status`]: one statement, every step an
/// index lookup (see the SQLite backend's twin).
pub(crate) async fn person_status(
    pool: &PgPool,
    keys: &Keyring,
    id: PersonId,
) -> Result<Option<PersonStatus>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT se.status, se.occurred_on, se.place, se.details, se.seq, se.reported_by, se.recorded_at,
                p.status, p.primary_source, iv.power, since.seq, since.occurred_on, since.recorded_at
         FROM person p
         JOIN status_event se ON se.person_id = p.id AND se.seq = p.status_seq
         JOIN status_event since ON since.person_id = p.id
          AND since.seq = (SELECT coalesce(max(x.seq), 0) + 1 FROM status_event x
                           WHERE x.person_id = p.id AND x.status <> p.status)
         JOIN identity_version iv ON iv.source = p.primary_source AND iv.record_id = p.primary_record_id
          AND iv.version = (SELECT max(m.version) FROM identity_version m
                            WHERE m.source = p.primary_source AND m.record_id = p.primary_record_id)
         WHERE p.id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(backend_error)?
    else {
        return Ok(None);
    };
    let seq = get::<i32>(&r, 4)? as u32;
    Ok(Some(PersonStatus {
        id,
        status: status(get(&r, 7)?)?,
        source: party(get(&r, 8)?)?,
        power: party(get(&r, 9)?)?,
        since: StatusSince {
            seq: get::<i32>(&r, 10)? as u32,
            occurred_on: date(get(&r, 11)?)?,
            recorded_at: get(&r, 12)?,
        },
        last: StatusRecord {
            event: event(&r, keys, id, seq)?,
            seq,
            reported_by: party(get(&r, 5)?)?,
            recorded_at: get(&r, 6)?,
        },
    }))
}

pub(crate) async fn list_persons(
    pool: &PgPool,
    f: &PersonFilter,
    page: &Page,
) -> Result<Vec<PersonSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.id, p.status, iv.family_name, iv.given_names, iv.birth_date, iv.power, iv.source, iv.record_id
         FROM person p
         JOIN identity_version iv ON iv.source = p.primary_source AND iv.record_id = p.primary_record_id
          AND iv.version = (SELECT max(version) FROM identity_version m
                            WHERE m.source = p.primary_source AND m.record_id = p.primary_record_id)
         WHERE ($1::uuid IS NULL OR p.id > $1)
           AND ($2::text IS NULL OR p.status = $2)
           AND ($3::text IS NULL OR iv.power = $3)
           AND ($4::text IS NULL OR p.primary_source = $4)
         ORDER BY p.id LIMIT $5",
    )
    .bind(page.after.map(|a| a.0))
    .bind(f.status.map(Status::as_str))
    .bind(f.power.as_ref().map(PartyCode::as_str))
    .bind(f.source.as_ref().map(PartyCode::as_str))
    .bind(i64::from(page.limit.clamp(1, Page::MAX_LIMIT)))
    .fetch_all(pool)
    .await
    .map_err(backend_error)?;
    rows.iter()
        .map(|r| {
            Ok(PersonSummary {
                id: PersonId(get::<Uuid>(r, 0)?),
                status: status(get(r, 1)?)?,
                family_name: get(r, 2)?,
                given_names: get(r, 3)?,
                birth_date: date(get(r, 4)?)?,
                power: party(get(r, 5)?)?,
                source: SourceRef { source: party(get(r, 6)?)?, record_id: get(r, 7)? },
            })
        })
        .collect()
}

pub(crate) async fn export_persons(
    pool: &PgPool,
    keys: &Keyring,
    sink: tokio::sync::mpsc::Sender<ExportRow>,
) -> Result<u64, StoreError> {
    let sql = concat!(
        "SELECT iv.person_id, iv.source, iv.record_id, iv.version, p.status, se.occurred_on, se.place, ",
        identity_columns!(),
        " FROM identity_version iv
         JOIN person p ON p.id = iv.person_id
         JOIN status_event se ON se.person_id = p.id AND se.seq = p.status_seq
         WHERE iv.version = (SELECT max(version) FROM identity_version m
                             WHERE m.source = iv.source AND m.record_id = iv.record_id)
         ORDER BY iv.source COLLATE \"C\", iv.record_id COLLATE \"C\""
    );
    let mut stream = sqlx::query(sql).fetch(pool);
    let mut n = 0;
    while let Some(r) = stream.try_next().await.map_err(backend_error)? {
        if sink.send(export_row(&r, keys)?).await.is_err() {
            break;
        }
        n += 1;
    }
    Ok(n)
}

/// Identity versions whose log entries have leaf index in `start..end`.
pub(crate) async fn identities_in_leaves(
    pool: &PgPool,
    keys: &Keyring,
    start: u64,
    end: u64,
) -> Result<Vec<ExportRow>, StoreError> {
    let sql = concat!(
        "SELECT iv.person_id, iv.source, iv.record_id, iv.version, p.status, se.occurred_on, se.place, ",
        identity_columns!(),
        " FROM log_entry le
         JOIN identity_version iv ON iv.log_id = le.id
         JOIN person p ON p.id = iv.person_id
         JOIN status_event se ON se.person_id = p.id AND se.seq = p.status_seq
         WHERE le.leaf_index >= $1 AND le.leaf_index < $2
         ORDER BY le.leaf_index"
    );
    let rows = sqlx::query(sql).bind(start as i64).bind(end as i64).fetch_all(pool).await.map_err(backend_error)?;
    rows.iter().map(|r| export_row(r, keys)).collect()
}

fn export_row(r: &PgRow, keys: &Keyring) -> Result<ExportRow, StoreError> {
    let source = SourceRef { source: party(get(r, 1)?)?, record_id: get(r, 2)? };
    let version = get::<i32>(r, 3)? as u32;
    let name = seal::identity_name(source.source.as_str(), &source.record_id, version);
    Ok(ExportRow {
        person_id: PersonId(get(r, 0)?),
        status: status(get(r, 4)?)?,
        status_occurred_on: date(get(r, 5)?)?,
        status_place: get(r, 6)?,
        identity: identity(r, 7, keys, name)?,
        source,
        version,
    })
}
