//! The logged records seen from their side, on SQLite: a record found by
//! its key with its entry, and every record with its entry for an audit.
//! The one module that names every logged kind's table (the kinds
//! themselves are `homeward_store::RecordKey`); `log.rs` only appends,
//! sequences and reads entries, so the kinds' modules (`requests.rs`, ...)
//! use it without it using them.

use homeward_domain::SourceRef;
use homeward_store::log::record;
use homeward_store::{AuditItem, Keyring, LogEntry, LoggedRecord, RecordKey, StoreError, seal};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend_error;
use crate::log::{ENTRY_COLUMNS, ENTRY_WIDTH, entry_by_id, entry_from_row};
use crate::read::{self, IDENTITY_COLUMNS};

/// The record and its entry, found from the record's side (records point to entries).
pub(crate) fn entry_for_record(
    c: &Connection,
    keys: &Keyring,
    key: &RecordKey,
) -> Result<Option<(LogEntry, Option<LoggedRecord>)>, StoreError> {
    let found: Option<(Option<i64>, LoggedRecord)> = match key {
        RecordKey::Conflict => {
            let setup = read::conflict(c)?;
            let log_id = c
                .query_row("SELECT log_id FROM conflict WHERE id = 1", [], |r| r.get(0))
                .optional()
                .map_err(backend_error)?
                .flatten();
            setup.map(|setup| (log_id, LoggedRecord::Conflict { setup }))
        }
        RecordKey::Identity(id) => {
            let sql = format!(
                "SELECT log_id, id, person_id, source, record_id, version, {IDENTITY_COLUMNS} FROM identity_version WHERE id = ?1"
            );
            let mut st = c.prepare_cached(&sql).map_err(backend_error)?;
            let mut rows = st.query(params![id]).map_err(backend_error)?;
            match rows.next().map_err(backend_error)? {
                Some(r) => Some((r.get(0).map_err(backend_error)?, identity_record(r, 1, keys)?)),
                None => None,
            }
        }
        RecordKey::Status { person, seq } => c
            .prepare_cached(
                "SELECT log_id, person_id, seq, status, occurred_on, place, details, reported_by FROM status_event
                 WHERE person_id = ?1 AND seq = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![person.0.as_bytes(), seq], |r| Ok((r.get(0)?, status_record(r, 1)?))).optional()
            })
            .map_err(backend_error)?
            .map(|(log_id, rec)| Ok::<_, StoreError>((log_id, seal::open_status_record(keys, rec)?)))
            .transpose()?,
        RecordKey::Tracing { request, seq } => crate::requests::event_at(c, keys, *request, *seq)?,
    };
    match found {
        Some((Some(log_id), rec)) => Ok(entry_by_id(c, log_id)?.map(|e| (e, Some(rec)))),
        _ => Ok(None),
    }
}

/// id, person_id, source, record_id, version, identity columns from `at`;
/// the contact fields are opened.
fn identity_record(r: &Row<'_>, at: usize, keys: &Keyring) -> Result<LoggedRecord, StoreError> {
    let (id, person_id, source, version, sealed) = (|| {
        Ok::<_, rusqlite::Error>((
            r.get::<_, Option<String>>(at)?.unwrap_or_default(),
            read::person_id(r.get_ref(at + 1)?)?,
            SourceRef { source: read::party(r.get_ref(at + 2)?)?, record_id: r.get(at + 3)? },
            r.get::<_, u32>(at + 4)?,
            read::identity_from_row(r, at + 5)?,
        ))
    })()
    .map_err(backend_error)?;
    let identity = sealed.open(keys, seal::identity_name(source.source.as_str(), &source.record_id, version))?;
    Ok(LoggedRecord::IdentityVersion { id, person_id, source, version, identity: Box::new(identity) })
}

/// person_id, seq, status, occurred_on, place, details, reported_by from `at`;
/// the details still sealed: [`seal::open_status_record`] it.
fn status_record(r: &Row<'_>, at: usize) -> rusqlite::Result<LoggedRecord> {
    Ok(LoggedRecord::StatusEvent {
        person_id: read::person_id(r.get_ref(at)?)?,
        seq: r.get(at + 1)?,
        event: homeward_domain::StatusEvent {
            status: read::status(r.get_ref(at + 2)?)?,
            occurred_on: read::date(r.get_ref(at + 3)?)?,
            place: r.get(at + 4)?,
            details: r.get(at + 5)?,
        },
        reported_by: r.get(at + 6)?,
    })
}

/// Every record with its entry, then entries whose record is gone.
pub(crate) fn audit_records(
    c: &Connection,
    keys: &Keyring,
    sink: &tokio::sync::mpsc::Sender<AuditItem>,
) -> Result<(), StoreError> {
    let send = |item: AuditItem| sink.blocking_send(item).is_ok();
    // The conflict's setup.
    if let Some(setup) = read::conflict(c)? {
        let log_id: Option<i64> =
            c.query_row("SELECT log_id FROM conflict WHERE id = 1", [], |r| r.get(0)).map_err(backend_error)?;
        let entry = match log_id {
            Some(id) => entry_by_id(c, id)?,
            None => None,
        };
        if !send(AuditItem::Record { record: Box::new(LoggedRecord::Conflict { setup }), entry }) {
            return Ok(());
        }
    }
    let identity_sql = format!(
        "SELECT {ENTRY_COLUMNS}, r.id, r.person_id, r.source, r.record_id, r.version, {} FROM identity_version r
         LEFT JOIN log_entry e ON e.id = r.log_id ORDER BY r.log_id",
        IDENTITY_COLUMNS.split(", ").map(|col| format!("r.{col}")).collect::<Vec<_>>().join(", ")
    );
    let status_sql = format!(
        "SELECT {ENTRY_COLUMNS}, r.person_id, r.seq, r.status, r.occurred_on, r.place, r.details, r.reported_by
         FROM status_event r LEFT JOIN log_entry e ON e.id = r.log_id ORDER BY r.log_id"
    );
    for (sql, kind) in [(identity_sql, record::IDENTITY_VERSION), (status_sql, record::STATUS_EVENT)] {
        let mut st = c.prepare(&sql).map_err(backend_error)?;
        let mut rows = st.query([]).map_err(backend_error)?;
        while let Some(r) = rows.next().map_err(backend_error)? {
            let entry = match r.get::<_, Option<i64>>(0).map_err(backend_error)? {
                Some(_) => Some(entry_from_row(r, 0).map_err(backend_error)?),
                None => None,
            };
            let record = if kind == record::IDENTITY_VERSION {
                identity_record(r, ENTRY_WIDTH, keys)?
            } else {
                seal::open_status_record(keys, status_record(r, ENTRY_WIDTH).map_err(backend_error)?)?
            };
            if !send(AuditItem::Record { record: Box::new(record), entry }) {
                return Ok(());
            }
        }
    }
    if !crate::requests::audit_events(c, keys, &send)? {
        return Ok(());
    }
    // Entries no record points to: the record was deleted (or re-pointed).
    let orphans = format!(
        "SELECT {ENTRY_COLUMNS} FROM log_entry e WHERE e.id IN (
            SELECT id FROM log_entry
            EXCEPT SELECT log_id FROM identity_version WHERE log_id IS NOT NULL
            EXCEPT SELECT log_id FROM tracing_event WHERE log_id IS NOT NULL
            EXCEPT SELECT log_id FROM status_event WHERE log_id IS NOT NULL
            EXCEPT SELECT log_id FROM conflict WHERE log_id IS NOT NULL)
         ORDER BY e.id"
    );
    let mut st = c.prepare(&orphans).map_err(backend_error)?;
    let mut rows = st.query([]).map_err(backend_error)?;
    while let Some(r) = rows.next().map_err(backend_error)? {
        let entry = entry_from_row(r, 0).map_err(backend_error)?;
        if !send(AuditItem::Orphan { entry }) {
            return Ok(());
        }
    }
    Ok(())
}
