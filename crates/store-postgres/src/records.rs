//! The logged records seen from their side, on PostgreSQL: a record found
//! by its key with its entry, and every record with its entry for an audit.
//! The one module that names every logged kind's table (the kinds
//! themselves are `homeward_store::RecordKey`); `log.rs` only appends,
//! sequences and reads entries, so the kinds' modules (`requests.rs`, ...)
//! use it without it using them. Mirrors the SQLite backend's `records.rs`.

use futures_util::TryStreamExt;
use homeward_domain::{ConflictSetup, PersonId, SourceRef, StatusEvent};
use homeward_store::{AuditItem, Keyring, LogEntry, LoggedRecord, RecordKey, StoreError, seal};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};

use crate::backend_error;
use crate::log::{ENTRY_WIDTH, entry, entry_by_id};
use crate::rows::{self, get};

/// id, person_id, source, record_id, version, identity columns from `at`.
fn identity_record(r: &PgRow, at: usize, keys: &Keyring) -> Result<LoggedRecord, StoreError> {
    let source = SourceRef { source: rows::party(get(r, at + 2)?)?, record_id: get(r, at + 3)? };
    let version = get::<i32>(r, at + 4)? as u32;
    let name = homeward_store::seal::identity_name(source.source.as_str(), &source.record_id, version);
    Ok(LoggedRecord::IdentityVersion {
        id: get::<Option<String>>(r, at)?.unwrap_or_default(),
        person_id: PersonId(get(r, at + 1)?),
        identity: Box::new(rows::identity(r, at + 5, keys, name)?),
        source,
        version,
    })
}

/// person_id, seq, status, occurred_on, place, details, reported_by from
/// `at`; the details opened.
fn status_record(r: &PgRow, at: usize, keys: &Keyring) -> Result<LoggedRecord, StoreError> {
    seal::open_status_record(
        keys,
        LoggedRecord::StatusEvent {
            person_id: PersonId(get(r, at)?),
            seq: get::<i32>(r, at + 1)? as u32,
            event: StatusEvent {
                status: rows::status(get(r, at + 2)?)?,
                occurred_on: rows::date(get(r, at + 3)?)?,
                place: get(r, at + 4)?,
                details: get(r, at + 5)?,
            },
            reported_by: get(r, at + 6)?,
        },
    )
}

async fn conflict_record(c: &mut PgConnection) -> Result<Option<(Option<i64>, ConflictSetup)>, StoreError> {
    let Some(setup) = rows::conflict(&mut *c).await? else { return Ok(None) };
    let log_id: Option<i64> = sqlx::query_scalar("SELECT log_id FROM conflict WHERE id = 1")
        .fetch_one(&mut *c)
        .await
        .map_err(backend_error)?;
    Ok(Some((log_id, setup)))
}

pub(crate) async fn entry_for_record(
    c: &mut PgConnection,
    keys: &Keyring,
    key: &RecordKey,
) -> Result<Option<(LogEntry, Option<LoggedRecord>)>, StoreError> {
    let found: Option<(Option<i64>, LoggedRecord)> = match key {
        RecordKey::Conflict => {
            conflict_record(&mut *c).await?.map(|(id, setup)| (id, LoggedRecord::Conflict { setup }))
        }
        RecordKey::Identity(id) => {
            let r = sqlx::query(concat!(
                "SELECT log_id, id, person_id, source, record_id, version, ",
                crate::identity_columns!(),
                " FROM identity_version WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&mut *c)
            .await
            .map_err(backend_error)?;
            match r {
                Some(r) => Some((get(&r, 0)?, identity_record(&r, 1, keys)?)),
                None => None,
            }
        }
        RecordKey::Status { person, seq } => {
            let r = sqlx::query(
                "SELECT log_id, person_id, seq, status, occurred_on, place, details, reported_by FROM status_event
                 WHERE person_id = $1 AND seq = $2",
            )
            .bind(person.0)
            .bind(*seq as i32)
            .fetch_optional(&mut *c)
            .await
            .map_err(backend_error)?;
            match r {
                Some(r) => Some((get(&r, 0)?, status_record(&r, 1, keys)?)),
                None => None,
            }
        }
        RecordKey::Tracing { request, seq } => crate::requests::event_at(&mut *c, keys, *request, *seq).await?,
    };
    match found {
        Some((Some(log_id), rec)) => Ok(entry_by_id(c, log_id).await?.map(|e| (e, Some(rec)))),
        _ => Ok(None),
    }
}

pub(crate) async fn audit_records(
    pool: &PgPool,
    keys: &Keyring,
    sink: tokio::sync::mpsc::Sender<AuditItem>,
) -> Result<(), StoreError> {
    let mut c = pool.acquire().await.map_err(backend_error)?;
    if let Some((log_id, setup)) = conflict_record(&mut c).await? {
        let entry = match log_id {
            Some(id) => entry_by_id(&mut c, id).await?,
            None => None,
        };
        if sink.send(AuditItem::Record { record: Box::new(LoggedRecord::Conflict { setup }), entry }).await.is_err() {
            return Ok(());
        }
    }
    let identity_sql = concat!(
        "SELECT ",
        crate::entry_columns!(),
        ", r.id, r.person_id, r.source, r.record_id, r.version, r.family_name, r.given_names, r.patronymic, \
         r.mother_maiden_name, r.birth_date, r.place_of_birth, r.rank, r.service_number, r.unit, r.power, r.category, \
         r.person_to_inform, r.correspondence_address
         FROM identity_version r LEFT JOIN log_entry e ON e.id = r.log_id ORDER BY r.log_id"
    );
    let status_sql = concat!(
        "SELECT ",
        crate::entry_columns!(),
        ", r.person_id, r.seq, r.status, r.occurred_on, r.place, r.details, r.reported_by
         FROM status_event r LEFT JOIN log_entry e ON e.id = r.log_id ORDER BY r.log_id"
    );
    for (sql, is_identity) in [(identity_sql, true), (status_sql, false)] {
        let mut rows = sqlx::query(sql).fetch(&mut *c);
        while let Some(r) = rows.try_next().await.map_err(backend_error)? {
            let entry = if get::<Option<i64>>(&r, 0)?.is_some() { Some(entry(&r, 0)?) } else { None };
            let record = if is_identity {
                identity_record(&r, ENTRY_WIDTH, keys)?
            } else {
                status_record(&r, ENTRY_WIDTH, keys)?
            };
            if sink.send(AuditItem::Record { record: Box::new(record), entry }).await.is_err() {
                return Ok(());
            }
        }
    }
    if !crate::requests::audit_events(&mut c, keys, &sink).await? {
        return Ok(());
    }
    let mut rows = sqlx::query(concat!(
        "SELECT ",
        crate::entry_columns!(),
        " FROM log_entry e WHERE e.id IN (
            SELECT id FROM log_entry
            EXCEPT SELECT log_id FROM identity_version WHERE log_id IS NOT NULL
            EXCEPT SELECT log_id FROM tracing_event WHERE log_id IS NOT NULL
            EXCEPT SELECT log_id FROM status_event WHERE log_id IS NOT NULL
            EXCEPT SELECT log_id FROM conflict WHERE log_id IS NOT NULL)
         ORDER BY e.id"
    ))
    .fetch(&mut *c);
    while let Some(r) = rows.try_next().await.map_err(backend_error)? {
        if sink.send(AuditItem::Orphan { entry: entry(&r, 0)? }).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}
