//! Tracing requests on SQLite (see `homeward_store::requests`).

use homeward_domain::{Decision, Desk, Disclosure, PersonId, RequestStatus, SoughtPerson, TracingRequestId};
use homeward_store::log::{record, tracing_content};
use homeward_store::requests::{
    NewCandidate, NewTracingRequest, RequestFilter, assigned_content, check_decidable, decision_content, filed_content,
    kind, split_contact, status_after_candidates,
};
use homeward_store::{Actor, AuditItem, Keyring, LoggedRecord, MatchCandidate, Refusal, StoreError, TracingRequest};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend_error;
use crate::log::{Appender, ENTRY_COLUMNS, ENTRY_WIDTH, entry_from_row};

/// Associated data of the sealed contact columns.
const REQUEST_CONTACT: &str = "tracing_request.contact";
const EVENT_CONTACT: &str = "tracing_event.contact";

fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("stored {what} does not parse").into(),
    )
}

fn uuid(r: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let bytes: Vec<u8> = r.get(i)?;
    Uuid::from_slice(&bytes).map_err(|_| bad("id"))
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_ms(v: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Appends one tracing event and its log entry; `content` is the whole
/// content (contact included for a filing), stored without the contact,
/// which goes sealed into its own column.
fn append_event(
    c: &Connection,
    keys: &Keyring,
    log: &mut Appender,
    request: TracingRequestId,
    kind: &str,
    mut content: Value,
    actor: &Actor,
) -> Result<(), StoreError> {
    let seq: u32 = c
        .query_row(
            "SELECT coalesce(max(seq), 0) + 1 FROM tracing_event WHERE request_id = ?1",
            params![request.0.as_bytes()],
            |r| r.get(0),
        )
        .map_err(backend_error)?;
    let full = tracing_content(request, seq, &content);
    let log_id = log.append_as(
        c,
        actor,
        kind::event_type(kind),
        record::TRACING_EVENT,
        &record::tracing_id(request, seq),
        &full,
    )?;
    let sealed = split_contact(&mut content).map(|v| keys.seal(EVENT_CONTACT, &v));
    c.execute(
        "INSERT INTO tracing_event (request_id, seq, kind, content, contact, log_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![request.0.as_bytes(), seq, kind, content.to_string(), sealed, log_id],
    )
    .map_err(backend_error)?;
    Ok(())
}

pub(crate) fn file(c: &mut Connection, keys: &Keyring, new: &NewTracingRequest) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    let mut log = Appender::new(&tx, keys)?;
    let sought = serde_json::to_string(&new.sought).map_err(|_| StoreError::Backend("sought person".into()))?;
    tx.execute(
        "INSERT INTO tracing_request (id, owner, enquirer_name, relationship, contact, sought, status, desk,
                                      created_at, consent_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?8, ?8)",
        params![
            new.id.0.as_bytes(),
            new.owner.0.as_bytes(),
            new.enquirer_name,
            new.relationship,
            keys.seal(REQUEST_CONTACT, &new.contact),
            sought,
            new.desk.to_string(),
            ms(new.at),
        ],
    )
    .map_err(backend_error)?;
    let actor = Actor { role: "family".into(), party: None };
    append_event(&tx, keys, &mut log, new.id, kind::FILED, filed_content(new), &actor)?;
    tx.commit().map_err(backend_error)
}

const REQUEST_COLUMNS: &str = "id, owner, enquirer_name, relationship, contact, sought, status, desk, linked_person, \
                               disclosure, created_at";

fn request_row(r: &Row<'_>, keys: &Keyring) -> Result<TracingRequest, StoreError> {
    let (id, owner, enquirer_name, relationship, contact, sought, status, desk, linked, disclosure, created) = (|| {
        Ok::<_, rusqlite::Error>((
            TracingRequestId(uuid(r, 0)?),
            homeward_store::UserId(uuid(r, 1)?),
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            serde_json::from_str::<SoughtPerson>(&r.get::<_, String>(5)?).map_err(|_| bad("sought person"))?,
            r.get::<_, String>(6)?.parse::<RequestStatus>().map_err(|()| bad("request status"))?,
            r.get::<_, String>(7)?.parse::<Desk>().map_err(|_| bad("desk"))?,
            r.get::<_, Option<Vec<u8>>>(8)?,
            r.get::<_, Option<String>>(9)?,
            r.get::<_, i64>(10)?,
        ))
    })()
    .map_err(backend_error)?;
    let linked_person = linked
        .map(|b| Uuid::from_slice(&b).map(PersonId))
        .transpose()
        .map_err(|_| StoreError::Backend("stored linked person does not parse".into()))?;
    let disclosure = disclosure
        .map(|d| d.parse::<Disclosure>())
        .transpose()
        .map_err(|()| StoreError::Backend("stored disclosure does not parse".into()))?;
    let contact = keys.open(REQUEST_CONTACT, &contact).map_err(|reason| StoreError::Sealed {
        record: format!("tracing/{id}"),
        column: REQUEST_CONTACT,
        reason,
    })?;
    Ok(TracingRequest {
        id,
        owner,
        enquirer_name,
        relationship,
        contact,
        sought,
        status,
        desk,
        linked_person,
        disclosure,
        created_at: from_ms(created),
    })
}

pub(crate) fn get(c: &Connection, keys: &Keyring, id: TracingRequestId) -> Result<Option<TracingRequest>, StoreError> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM tracing_request WHERE id = ?1");
    let mut st = c.prepare_cached(&sql).map_err(backend_error)?;
    let mut rows = st.query(params![id.0.as_bytes()]).map_err(backend_error)?;
    match rows.next().map_err(backend_error)? {
        Some(r) => Ok(Some(request_row(r, keys)?)),
        None => Ok(None),
    }
}

pub(crate) fn list(c: &Connection, keys: &Keyring, f: &RequestFilter) -> Result<Vec<TracingRequest>, StoreError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM tracing_request
         WHERE (?1 IS NULL OR owner = ?1) AND (?2 IS NULL OR desk = ?2)
           AND (?3 = 0 OR status IN ('open', 'candidates'))
           AND (?4 IS NULL OR created_at >= ?4)
         ORDER BY created_at, id"
    );
    let mut st = c.prepare_cached(&sql).map_err(backend_error)?;
    let owner = f.owner.map(|o| o.0.as_bytes().to_vec());
    let desk = f.desk.as_ref().map(ToString::to_string);
    let mut rows =
        st.query(params![owner, desk, i64::from(f.searching), f.filed_since.map(ms)]).map_err(backend_error)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(backend_error)? {
        out.push(request_row(r, keys)?);
    }
    Ok(out)
}

fn status_of(c: &Connection, id: TracingRequestId) -> Result<Option<RequestStatus>, StoreError> {
    c.query_row("SELECT status FROM tracing_request WHERE id = ?1", params![id.0.as_bytes()], |r| r.get::<_, String>(0))
        .optional()
        .map_err(backend_error)?
        .map(|s| s.parse().map_err(|()| StoreError::Backend("stored request status does not parse".into())))
        .transpose()
}

pub(crate) fn assign(
    c: &mut Connection,
    keys: &Keyring,
    id: TracingRequestId,
    desk: &Desk,
    by: &Actor,
) -> Result<bool, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    if status_of(&tx, id)?.is_none() {
        return Ok(false);
    }
    let mut log = Appender::new(&tx, keys)?;
    tx.execute("UPDATE tracing_request SET desk = ?2 WHERE id = ?1", params![id.0.as_bytes(), desk.to_string()])
        .map_err(backend_error)?;
    append_event(&tx, keys, &mut log, id, kind::ASSIGNED, assigned_content(desk), by)?;
    tx.commit().map_err(backend_error)?;
    Ok(true)
}

/// Stores the candidates not yet known (not logged: see
/// `homeward_store::requests`); the request moves to `candidates`.
pub(crate) fn add_candidates(
    c: &mut Connection,
    id: TracingRequestId,
    candidates: &[NewCandidate],
) -> Result<usize, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    let Some(status) = status_of(&tx, id)? else { return Ok(0) };
    if !status.is_searching() {
        return Ok(0);
    }
    let mut added = 0;
    for cand in candidates {
        added += tx
            .execute(
                "INSERT INTO match_candidate (request_id, person_id, probability, explanation) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (request_id, person_id) DO NOTHING",
                params![id.0.as_bytes(), cand.person.0.as_bytes(), cand.probability, cand.explanation.to_string()],
            )
            .map_err(backend_error)?;
    }
    if status_after_candidates(status, added) == Some(RequestStatus::Candidates) {
        tx.execute("UPDATE tracing_request SET status = 'candidates' WHERE id = ?1", params![id.0.as_bytes()])
            .map_err(backend_error)?;
    }
    tx.commit().map_err(backend_error)?;
    Ok(added)
}

pub(crate) fn candidates(c: &Connection, id: TracingRequestId) -> Result<Vec<MatchCandidate>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT person_id, probability, explanation, decision FROM match_candidate WHERE request_id = ?1
             ORDER BY probability DESC, person_id",
        )
        .map_err(backend_error)?;
    st.query_map(params![id.0.as_bytes()], |r| {
        Ok(MatchCandidate {
            request: id,
            person: PersonId(uuid(r, 0)?),
            probability: r.get(1)?,
            explanation: serde_json::from_str(&r.get::<_, String>(2)?).map_err(|_| bad("explanation"))?,
            decision: r.get::<_, Option<String>>(3)?.map(|d| d.parse().map_err(|()| bad("decision"))).transpose()?,
        })
    })
    .map_err(backend_error)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(backend_error)
}

pub(crate) fn decide(
    c: &mut Connection,
    keys: &Keyring,
    id: TracingRequestId,
    person: PersonId,
    decision: Decision,
    disclosure: Option<Disclosure>,
    by: &Actor,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    check_decidable(status_of(&tx, id)?)?;
    let decided: Option<(f64, String)> = tx
        .query_row(
            "UPDATE match_candidate SET decision = ?3 WHERE request_id = ?1 AND person_id = ?2 AND decision IS NULL
             RETURNING probability, explanation",
            params![id.0.as_bytes(), person.0.as_bytes(), decision.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(backend_error)?;
    let Some((probability, explanation)) = decided else {
        return Err(Refusal::NoUndecidedCandidate.into());
    };
    let explanation: Value = serde_json::from_str(&explanation).map_err(|_| backend_error(bad("explanation")))?;
    if decision == Decision::Confirmed {
        tx.execute(
            "UPDATE tracing_request SET status = 'confirmed', linked_person = ?2, disclosure = ?3 WHERE id = ?1",
            params![id.0.as_bytes(), person.0.as_bytes(), disclosure.map(Disclosure::as_str)],
        )
        .map_err(backend_error)?;
    }
    let mut log = Appender::new(&tx, keys)?;
    let content = decision_content(decision, person, disclosure, probability, explanation);
    append_event(&tx, keys, &mut log, id, decision.as_str(), content, by)?;
    tx.commit().map_err(backend_error)
}

pub(crate) fn job_watermark(c: &Connection, job: &str) -> Result<i64, StoreError> {
    c.query_row("SELECT watermark FROM job_state WHERE job = ?1", params![job], |r| r.get(0))
        .optional()
        .map_err(backend_error)
        .map(Option::unwrap_or_default)
}

pub(crate) fn set_job_watermark(c: &Connection, job: &str, value: i64) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO job_state (job, watermark) VALUES (?1, ?2) ON CONFLICT (job) DO UPDATE SET watermark = excluded.watermark",
        params![job, value],
    )
    .map_err(backend_error)?;
    Ok(())
}

/// request_id, seq, content, contact from `at`: the logged record.
fn event_record(r: &Row<'_>, at: usize, keys: &Keyring) -> Result<LoggedRecord, StoreError> {
    let (request_id, seq, content, contact) = (|| {
        Ok::<_, rusqlite::Error>((
            TracingRequestId(uuid(r, at)?),
            r.get::<_, u32>(at + 1)?,
            serde_json::from_str::<Value>(&r.get::<_, String>(at + 2)?).map_err(|_| bad("tracing event"))?,
            r.get::<_, Option<String>>(at + 3)?,
        ))
    })()
    .map_err(backend_error)?;
    let mut content = content;
    if let Some(sealed) = contact {
        let plain = keys.open(EVENT_CONTACT, &sealed).map_err(|reason| StoreError::Sealed {
            record: record::tracing_id(request_id, seq),
            column: EVENT_CONTACT,
            reason,
        })?;
        if let Value::Object(m) = &mut content {
            m.insert("contact".into(), Value::String(plain));
        }
    }
    Ok(LoggedRecord::TracingEvent { request_id, seq, content })
}

/// Every tracing event with its entry; false when the reader went away.
pub(crate) fn audit_events(
    c: &Connection,
    keys: &Keyring,
    send: &dyn Fn(AuditItem) -> bool,
) -> Result<bool, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS}, r.request_id, r.seq, r.content, r.contact FROM tracing_event r
         LEFT JOIN log_entry e ON e.id = r.log_id ORDER BY r.log_id"
    );
    let mut st = c.prepare(&sql).map_err(backend_error)?;
    let mut rows = st.query([]).map_err(backend_error)?;
    while let Some(r) = rows.next().map_err(backend_error)? {
        let entry = match r.get::<_, Option<i64>>(0).map_err(backend_error)? {
            Some(_) => Some(entry_from_row(r, 0).map_err(backend_error)?),
            None => None,
        };
        let record = event_record(r, ENTRY_WIDTH, keys)?;
        if !send(AuditItem::Record { record: Box::new(record), entry }) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The tracing event `seq` of `request`, with its log id.
pub(crate) fn event_at(
    c: &Connection,
    keys: &Keyring,
    request: TracingRequestId,
    seq: u32,
) -> Result<Option<(Option<i64>, LoggedRecord)>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT log_id, request_id, seq, content, contact FROM tracing_event WHERE request_id = ?1 AND seq = ?2",
        )
        .map_err(backend_error)?;
    let mut rows = st.query(params![request.0.as_bytes(), seq]).map_err(backend_error)?;
    match rows.next().map_err(backend_error)? {
        Some(r) => Ok(Some((r.get(0).map_err(backend_error)?, event_record(r, 1, keys)?))),
        None => Ok(None),
    }
}

/// Counts the sealed tracing contacts per key (for `homeward keys`).
pub(crate) fn count_sealed(c: &Connection, usage: &mut homeward_store::SealUsage) -> Result<(), StoreError> {
    let mut st = c
        .prepare(
            "SELECT contact FROM tracing_request UNION ALL SELECT contact FROM tracing_event WHERE contact IS NOT NULL",
        )
        .map_err(backend_error)?;
    let mut rows = st.query([]).map_err(backend_error)?;
    while let Some(r) = rows.next().map_err(backend_error)? {
        usage.count(r.get_ref(0).map_err(backend_error)?.as_str().unwrap_or_default());
    }
    Ok(())
}

/// Re-seals up to `batch` tracing contacts not sealed with the current key,
/// in one transaction; 0 when nothing is left.
pub(crate) fn reseal_batch(c: &mut Connection, keys: &Keyring, batch: usize) -> Result<u64, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    let current = format!("hw1:{}:%", keys.current_id());
    let mut n = 0;
    let requests: Vec<(Vec<u8>, String)> = tx
        .prepare("SELECT id, contact FROM tracing_request WHERE contact NOT LIKE ?1 LIMIT ?2")
        .and_then(|mut st| {
            st.query_map(params![current, batch as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()
        })
        .map_err(backend_error)?;
    for (id, contact) in requests {
        let name = Uuid::from_slice(&id).map(|u| format!("tracing/{u}")).unwrap_or_default();
        let reseal = keys.reseal(REQUEST_CONTACT, &contact).map_err(|reason| StoreError::Sealed {
            record: name,
            column: REQUEST_CONTACT,
            reason,
        })?;
        if let Some(v) = reseal {
            tx.execute("UPDATE tracing_request SET contact = ?2 WHERE id = ?1", params![id, v])
                .map_err(backend_error)?;
            n += 1;
        }
    }
    let events: Vec<(Vec<u8>, u32, String)> = tx
        .prepare(
            "SELECT request_id, seq, contact FROM tracing_event WHERE contact IS NOT NULL AND contact NOT LIKE ?1
             LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(params![current, batch as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()
        })
        .map_err(backend_error)?;
    for (id, seq, contact) in events {
        let name = Uuid::from_slice(&id).map(|u| record::tracing_id(TracingRequestId(u), seq)).unwrap_or_default();
        let reseal = keys.reseal(EVENT_CONTACT, &contact).map_err(|reason| StoreError::Sealed {
            record: name,
            column: EVENT_CONTACT,
            reason,
        })?;
        if let Some(v) = reseal {
            tx.execute("UPDATE tracing_event SET contact = ?3 WHERE request_id = ?1 AND seq = ?2", params![id, seq, v])
                .map_err(backend_error)?;
            n += 1;
        }
    }
    tx.commit().map_err(backend_error)?;
    Ok(n)
}
