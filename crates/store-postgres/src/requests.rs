//! Tracing requests on PostgreSQL (see `homeward_store::requests`). A
//! change locks the request row (`FOR UPDATE`), so concurrent decisions and
//! matching rounds on one request run one after the other.

use futures_util::TryStreamExt;
use homeward_domain::{Decision, Desk, Disclosure, PersonId, RequestStatus, SoughtPerson, TracingRequestId};
use homeward_store::log::{record, tracing_content};
use homeward_store::requests::{
    NewCandidate, NewTracingRequest, RequestFilter, assigned_content, check_decidable, decision_content, filed_content,
    kind, split_contact, status_after_candidates,
};
use homeward_store::{
    Actor, AuditItem, Keyring, LoggedRecord, MatchCandidate, Refusal, StoreError, TracingRequest, UserId,
};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend_error;
use crate::log::{Appender, entry};
use crate::rows::get;

const REQUEST_CONTACT: &str = "tracing_request.contact";
const EVENT_CONTACT: &str = "tracing_event.contact";

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} does not parse"))
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_ms(v: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

async fn append_event(
    c: &mut PgConnection,
    keys: &Keyring,
    log: &Appender,
    request: TracingRequestId,
    kind: &str,
    mut content: Value,
    actor: &Actor,
) -> Result<(), StoreError> {
    let seq: i32 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) + 1 FROM tracing_event WHERE request_id = $1")
        .bind(request.0)
        .fetch_one(&mut *c)
        .await
        .map_err(backend_error)?;
    let seq = seq as u32;
    let full = tracing_content(request, seq, &content);
    let log_id = log
        .append_as(
            &mut *c,
            actor,
            kind::event_type(kind),
            record::TRACING_EVENT,
            &record::tracing_id(request, seq),
            &full,
        )
        .await?;
    let sealed = split_contact(&mut content).map(|v| keys.seal(EVENT_CONTACT, &v));
    sqlx::query(
        "INSERT INTO tracing_event (request_id, seq, kind, content, contact, log_id) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(request.0)
    .bind(seq as i32)
    .bind(kind)
    .bind(content.to_string())
    .bind(sealed)
    .bind(log_id)
    .execute(&mut *c)
    .await
    .map_err(backend_error)?;
    Ok(())
}

pub(crate) async fn file(pool: &PgPool, keys: &Keyring, new: &NewTracingRequest) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    let log = Appender::new(&mut tx, keys).await?;
    let sought = serde_json::to_string(&new.sought).map_err(|_| StoreError::Backend("sought person".into()))?;
    sqlx::query(
        "INSERT INTO tracing_request (id, owner, enquirer_name, relationship, contact, sought, status, desk,
                                      created_at, consent_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8)",
    )
    .bind(new.id.0)
    .bind(new.owner.0)
    .bind(&new.enquirer_name)
    .bind(&new.relationship)
    .bind(keys.seal(REQUEST_CONTACT, &new.contact))
    .bind(sought)
    .bind(new.desk.to_string())
    .bind(ms(new.at))
    .execute(&mut *tx)
    .await
    .map_err(backend_error)?;
    let actor = Actor { role: "family".into(), party: None };
    append_event(&mut tx, keys, &log, new.id, kind::FILED, filed_content(new), &actor).await?;
    tx.commit().await.map_err(backend_error)
}

macro_rules! select_requests {
    () => {
        "SELECT id, owner, enquirer_name, relationship, contact, sought, status, desk, linked_person, disclosure, \
         created_at FROM tracing_request"
    };
}

fn request_row(r: &PgRow, keys: &Keyring) -> Result<TracingRequest, StoreError> {
    let id = TracingRequestId(get(r, 0)?);
    let contact: String = get(r, 4)?;
    let contact = keys.open(REQUEST_CONTACT, &contact).map_err(|reason| StoreError::Sealed {
        record: format!("tracing/{id}"),
        column: REQUEST_CONTACT,
        reason,
    })?;
    Ok(TracingRequest {
        id,
        owner: UserId(get(r, 1)?),
        enquirer_name: get(r, 2)?,
        relationship: get(r, 3)?,
        contact,
        sought: serde_json::from_str::<SoughtPerson>(&get::<String>(r, 5)?).map_err(|_| corrupt("sought person"))?,
        status: get::<String>(r, 6)?.parse::<RequestStatus>().map_err(|()| corrupt("request status"))?,
        desk: get::<String>(r, 7)?.parse::<Desk>().map_err(|_| corrupt("desk"))?,
        linked_person: get::<Option<Uuid>>(r, 8)?.map(PersonId),
        disclosure: get::<Option<String>>(r, 9)?
            .map(|d| d.parse::<Disclosure>())
            .transpose()
            .map_err(|()| corrupt("disclosure"))?,
        created_at: from_ms(get(r, 10)?),
    })
}

pub(crate) async fn get_request(
    pool: &PgPool,
    keys: &Keyring,
    id: TracingRequestId,
) -> Result<Option<TracingRequest>, StoreError> {
    let r = sqlx::query(concat!(select_requests!(), " WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .map_err(backend_error)?;
    r.map(|r| request_row(&r, keys)).transpose()
}

pub(crate) async fn list(pool: &PgPool, keys: &Keyring, f: &RequestFilter) -> Result<Vec<TracingRequest>, StoreError> {
    let rows = sqlx::query(concat!(
        select_requests!(),
        " WHERE ($1::uuid IS NULL OR owner = $1) AND ($2::text IS NULL OR desk = $2)
           AND (NOT $3 OR status IN ('open', 'candidates'))
           AND ($4::bigint IS NULL OR created_at >= $4)
         ORDER BY created_at, id"
    ))
    .bind(f.owner.map(|o| o.0))
    .bind(f.desk.as_ref().map(ToString::to_string))
    .bind(f.searching)
    .bind(f.filed_since.map(ms))
    .fetch_all(pool)
    .await
    .map_err(backend_error)?;
    rows.iter().map(|r| request_row(r, keys)).collect()
}

async fn lock_status(c: &mut PgConnection, id: TracingRequestId) -> Result<Option<RequestStatus>, StoreError> {
    let s: Option<String> = sqlx::query_scalar("SELECT status FROM tracing_request WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(backend_error)?;
    s.map(|s| s.parse().map_err(|()| corrupt("request status"))).transpose()
}

pub(crate) async fn assign(
    pool: &PgPool,
    keys: &Keyring,
    id: TracingRequestId,
    desk: &Desk,
    by: &Actor,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    if lock_status(&mut tx, id).await?.is_none() {
        return Ok(false);
    }
    let log = Appender::new(&mut tx, keys).await?;
    sqlx::query("UPDATE tracing_request SET desk = $2 WHERE id = $1")
        .bind(id.0)
        .bind(desk.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
    append_event(&mut tx, keys, &log, id, kind::ASSIGNED, assigned_content(desk), by).await?;
    tx.commit().await.map_err(backend_error)?;
    Ok(true)
}

/// Stores the candidates not yet known (not logged: see
/// `homeward_store::requests`); the request moves to `candidates`.
pub(crate) async fn add_candidates(
    pool: &PgPool,
    id: TracingRequestId,
    candidates: &[NewCandidate],
) -> Result<usize, StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    let Some(status) = lock_status(&mut tx, id).await? else { return Ok(0) };
    if !status.is_searching() {
        return Ok(0);
    }
    let mut added = 0;
    for cand in candidates {
        let n = sqlx::query(
            "INSERT INTO match_candidate (request_id, person_id, probability, explanation) VALUES ($1, $2, $3, $4)
             ON CONFLICT (request_id, person_id) DO NOTHING",
        )
        .bind(id.0)
        .bind(cand.person.0)
        .bind(cand.probability)
        .bind(cand.explanation.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?
        .rows_affected();
        added += n as usize;
    }
    if status_after_candidates(status, added) == Some(RequestStatus::Candidates) {
        sqlx::query("UPDATE tracing_request SET status = 'candidates' WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
    }
    tx.commit().await.map_err(backend_error)?;
    Ok(added)
}

pub(crate) async fn candidates(pool: &PgPool, id: TracingRequestId) -> Result<Vec<MatchCandidate>, StoreError> {
    let rows = sqlx::query(
        "SELECT person_id, probability, explanation, decision FROM match_candidate WHERE request_id = $1
         ORDER BY probability DESC, person_id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await
    .map_err(backend_error)?;
    rows.iter()
        .map(|r| {
            Ok(MatchCandidate {
                request: id,
                person: PersonId(get(r, 0)?),
                probability: get(r, 1)?,
                explanation: serde_json::from_str(&get::<String>(r, 2)?).map_err(|_| corrupt("explanation"))?,
                decision: get::<Option<String>>(r, 3)?
                    .map(|d| d.parse::<Decision>().map_err(|()| corrupt("decision")))
                    .transpose()?,
            })
        })
        .collect()
}

pub(crate) async fn decide(
    pool: &PgPool,
    keys: &Keyring,
    id: TracingRequestId,
    person: PersonId,
    decision: Decision,
    disclosure: Option<Disclosure>,
    by: &Actor,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    check_decidable(lock_status(&mut tx, id).await?)?;
    let decided = sqlx::query(
        "UPDATE match_candidate SET decision = $3 WHERE request_id = $1 AND person_id = $2 AND decision IS NULL
         RETURNING probability, explanation",
    )
    .bind(id.0)
    .bind(person.0)
    .bind(decision.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend_error)?;
    let Some(row) = decided else {
        return Err(Refusal::NoUndecidedCandidate.into());
    };
    let probability: f64 = get(&row, 0)?;
    let explanation: Value = serde_json::from_str(&get::<String>(&row, 1)?).map_err(|_| corrupt("explanation"))?;
    if decision == Decision::Confirmed {
        sqlx::query(
            "UPDATE tracing_request SET status = 'confirmed', linked_person = $2, disclosure = $3 WHERE id = $1",
        )
        .bind(id.0)
        .bind(person.0)
        .bind(disclosure.map(Disclosure::as_str))
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
    }
    let log = Appender::new(&mut tx, keys).await?;
    let content = decision_content(decision, person, disclosure, probability, explanation);
    append_event(&mut tx, keys, &log, id, decision.as_str(), content, by).await?;
    tx.commit().await.map_err(backend_error)
}

pub(crate) async fn job_watermark(pool: &PgPool, job: &str) -> Result<i64, StoreError> {
    let v: Option<i64> = sqlx::query_scalar("SELECT watermark FROM job_state WHERE job = $1")
        .bind(job)
        .fetch_optional(pool)
        .await
        .map_err(backend_error)?;
    Ok(v.unwrap_or_default())
}

pub(crate) async fn set_job_watermark(pool: &PgPool, job: &str, value: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_state (job, watermark) VALUES ($1, $2) ON CONFLICT (job) DO UPDATE SET watermark = excluded.watermark",
    )
    .bind(job)
    .bind(value)
    .execute(pool)
    .await
    .map_err(backend_error)?;
    Ok(())
}

/// request_id, seq, content, contact from `at`.
fn event_record(r: &PgRow, at: usize, keys: &Keyring) -> Result<LoggedRecord, StoreError> {
    let request_id = TracingRequestId(get(r, at)?);
    let seq = get::<i32>(r, at + 1)? as u32;
    let mut content: Value = serde_json::from_str(&get::<String>(r, at + 2)?).map_err(|_| corrupt("tracing event"))?;
    if let Some(sealed) = get::<Option<String>>(r, at + 3)? {
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

pub(crate) async fn audit_events(
    c: &mut PgConnection,
    keys: &Keyring,
    sink: &tokio::sync::mpsc::Sender<AuditItem>,
) -> Result<bool, StoreError> {
    let mut rows = sqlx::query(concat!(
        "SELECT ",
        crate::entry_columns!(),
        ", r.request_id, r.seq, r.content, r.contact FROM tracing_event r
         LEFT JOIN log_entry e ON e.id = r.log_id ORDER BY r.log_id"
    ))
    .fetch(&mut *c);
    while let Some(r) = rows.try_next().await.map_err(backend_error)? {
        let e = if get::<Option<i64>>(&r, 0)?.is_some() { Some(entry(&r, 0)?) } else { None };
        let record = event_record(&r, crate::log::ENTRY_WIDTH, keys)?;
        if sink.send(AuditItem::Record { record: Box::new(record), entry: e }).await.is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The tracing event `seq` of `request`, with its log id.
pub(crate) async fn event_at(
    c: &mut PgConnection,
    keys: &Keyring,
    request: TracingRequestId,
    seq: u32,
) -> Result<Option<(Option<i64>, LoggedRecord)>, StoreError> {
    let r = sqlx::query(
        "SELECT log_id, request_id, seq, content, contact FROM tracing_event WHERE request_id = $1 AND seq = $2",
    )
    .bind(request.0)
    .bind(seq as i32)
    .fetch_optional(&mut *c)
    .await
    .map_err(backend_error)?;
    match r {
        Some(r) => Ok(Some((get(&r, 0)?, event_record(&r, 1, keys)?))),
        None => Ok(None),
    }
}

/// Counts the sealed tracing contacts per key (for `homeward keys`).
pub(crate) async fn count_sealed(pool: &PgPool, usage: &mut homeward_store::SealUsage) -> Result<(), StoreError> {
    let mut rows = sqlx::query(
        "SELECT contact FROM tracing_request UNION ALL SELECT contact FROM tracing_event WHERE contact IS NOT NULL",
    )
    .fetch(pool);
    while let Some(r) = rows.try_next().await.map_err(backend_error)? {
        usage.count(&get::<String>(&r, 0)?);
    }
    Ok(())
}

/// Re-seals up to `batch` tracing contacts not sealed with the current key,
/// in one transaction; 0 when nothing is left.
pub(crate) async fn reseal_batch(pool: &PgPool, keys: &Keyring, batch: usize) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    let current = format!("hw1:{}:%", keys.current_id());
    let mut n = 0;
    let rows = sqlx::query("SELECT id, contact FROM tracing_request WHERE contact NOT LIKE $1 LIMIT $2 FOR UPDATE")
        .bind(&current)
        .bind(batch as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend_error)?;
    for r in &rows {
        let id: Uuid = get(r, 0)?;
        let reseal = keys.reseal(REQUEST_CONTACT, &get::<String>(r, 1)?).map_err(|reason| StoreError::Sealed {
            record: format!("tracing/{id}"),
            column: REQUEST_CONTACT,
            reason,
        })?;
        if let Some(v) = reseal {
            sqlx::query("UPDATE tracing_request SET contact = $2 WHERE id = $1")
                .bind(id)
                .bind(v)
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
            n += 1;
        }
    }
    let rows = sqlx::query(
        "SELECT request_id, seq, contact FROM tracing_event WHERE contact IS NOT NULL AND contact NOT LIKE $1
         LIMIT $2 FOR UPDATE",
    )
    .bind(&current)
    .bind(batch as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend_error)?;
    for r in &rows {
        let (id, seq): (Uuid, i32) = (get(r, 0)?, get(r, 1)?);
        let reseal = keys.reseal(EVENT_CONTACT, &get::<String>(r, 2)?).map_err(|reason| StoreError::Sealed {
            record: record::tracing_id(TracingRequestId(id), seq as u32),
            column: EVENT_CONTACT,
            reason,
        })?;
        if let Some(v) = reseal {
            sqlx::query("UPDATE tracing_event SET contact = $3 WHERE request_id = $1 AND seq = $2")
                .bind(id)
                .bind(seq)
                .bind(v)
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
            n += 1;
        }
    }
    tx.commit().await.map_err(backend_error)?;
    Ok(n)
}
