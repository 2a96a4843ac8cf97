//! The import's fast paths on PostgreSQL. Row by row, each new record
//! took six round trips (look-up, person, two log entries, identity
//! version, status event), about 1,000 rows a second on loopback, and each
//! re-imported row three. Here a batch's records are looked up at once
//! (their latest identity versions and latest status events); a row that
//! changes nothing is only counted; and records new to the store are
//! written together, five statements per batch whatever its size, with
//! arrays bound as parameters (`UNNEST`). What is written is exactly what
//! the row-by-row path writes, which still handles every other row.

use std::collections::HashMap;

use homeward_domain::{PartyCode, PersonId, PersonIdentity, SourceRef, StatusEvent};
use homeward_store::log::{self as hlog, event, record};
use homeward_store::{Keyring, StoreError, seal};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend_error;
use crate::log::Appender;
use crate::rows::{Latest, get};

/// The latest identity version of each of `sources` that the store holds.
pub(crate) async fn latest_identities(
    c: &mut PgConnection,
    sources: &[&SourceRef],
) -> Result<HashMap<(String, String), Latest>, StoreError> {
    let (codes, ids): (Vec<&str>, Vec<&str>) =
        sources.iter().map(|s| (s.source.as_str(), s.record_id.as_str())).unzip();
    let rows = sqlx::query(
        "SELECT DISTINCT ON (v.source, v.record_id)
                v.source, v.record_id, v.person_id, v.version, v.fingerprint, v.fingerprint_scheme::bigint
         FROM identity_version v
         JOIN UNNEST($1::text[], $2::text[]) AS wanted (source, record_id)
           ON v.source = wanted.source AND v.record_id = wanted.record_id
         ORDER BY v.source, v.record_id, v.version DESC",
    )
    .bind(codes)
    .bind(ids)
    .fetch_all(&mut *c)
    .await
    .map_err(backend_error)?;
    rows.iter()
        .map(|r| {
            Ok((
                (get::<String>(r, 0)?, get::<String>(r, 1)?),
                (PersonId(get(r, 2)?), get::<i32>(r, 3)? as u32, get(r, 4)?, get(r, 5)?),
            ))
        })
        .collect()
}

/// The latest status event of each of `persons`, to tell a re-imported
/// row that changes nothing without a round trip of its own (the details
/// opened, as the row-by-row comparison has them).
pub(crate) async fn latest_events(
    c: &mut PgConnection,
    keys: &Keyring,
    persons: &[PersonId],
) -> Result<HashMap<PersonId, StatusEvent>, StoreError> {
    if persons.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = persons.iter().map(|p| p.0).collect();
    let rows = sqlx::query(
        "SELECT se.status, se.occurred_on, se.place, se.details, p.id, p.status_seq
         FROM person p JOIN status_event se ON se.person_id = p.id AND se.seq = p.status_seq
         WHERE p.id = ANY($1::uuid[])",
    )
    .bind(ids)
    .fetch_all(&mut *c)
    .await
    .map_err(backend_error)?;
    rows.iter()
        .map(|r| {
            let person = PersonId(get(r, 4)?);
            let seq = get::<i32>(r, 5)? as u32;
            Ok((person, crate::rows::event(r, keys, person, seq)?))
        })
        .collect()
}

/// A new source record waiting to be written: a new person with its first
/// identity version and first status event.
#[derive(Debug)]
pub(crate) struct NewRecord {
    pub source: SourceRef,
    pub identity: PersonIdentity,
    pub fingerprint: [u8; 32],
    pub first: StatusEvent,
    pub reporter: PartyCode,
}

/// Writes `records` in file order: each gets a new person, identity
/// version 1 and status event 1, with their two log entries (the identity's
/// first) numbered in that order.
pub(crate) async fn write_new(
    c: &mut PgConnection,
    keys: &Keyring,
    log: &Appender,
    now: OffsetDateTime,
    records: &[NewRecord],
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let n = records.len();
    // Entry ids from the table's own sequence, sorted so that the log's
    // order is the file's whatever order the sequence handed them out in.
    let mut log_ids: Vec<i64> =
        sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('log_entry', 'id')) FROM generate_series(1, $1)")
            .bind(i64::try_from(2 * n).unwrap_or(i64::MAX))
            .fetch_all(&mut *c)
            .await
            .map_err(backend_error)?;
    log_ids.sort_unstable();

    let persons: Vec<PersonId> = records.iter().map(|_| PersonId::new()).collect();
    let mut entries = LogEntries::with_capacity(2 * n);
    let mut identity_ids = Vec::with_capacity(n);
    for (k, (r, person)) in records.iter().zip(&persons).enumerate() {
        let id = Uuid::now_v7().to_string();
        let content = hlog::identity_content(&id, *person, &r.source, 1, &r.identity);
        entries.push(
            log,
            log_ids[2 * k],
            r.source.source.as_str(),
            event::PERSON_REGISTERED,
            record::IDENTITY_VERSION,
            record::identity_id(&id),
            &content,
        );
        let content = hlog::status_content(*person, 1, &r.first, r.reporter.as_str());
        entries.push(
            log,
            log_ids[2 * k + 1],
            r.reporter.as_str(),
            event::STATUS_RECORDED,
            record::STATUS_EVENT,
            record::status_id(*person, 1),
            &content,
        );
        identity_ids.push(id);
    }
    entries.insert(c, log.time_ms).await?;

    let person_ids: Vec<Uuid> = persons.iter().map(|p| p.0).collect();
    let sources: Vec<&str> = records.iter().map(|r| r.source.source.as_str()).collect();
    let record_ids: Vec<&str> = records.iter().map(|r| r.source.record_id.as_str()).collect();
    let statuses: Vec<&str> = records.iter().map(|r| r.first.status.as_str()).collect();
    sqlx::query(
        "INSERT INTO person (id, status, status_seq, primary_source, primary_record_id, created_at)
         SELECT id, status, 1, source, record_id, $5
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t (id, status, source, record_id)",
    )
    .bind(&person_ids)
    .bind(&statuses)
    .bind(&sources)
    .bind(&record_ids)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(backend_error)?;

    let ids = |f: fn(&PersonIdentity) -> Option<&str>| records.iter().map(|r| f(&r.identity)).collect::<Vec<_>>();
    let sealed: Vec<(Option<String>, Option<String>)> =
        records.iter().map(|r| seal::seal_contacts(keys, &r.identity)).collect();
    sqlx::query(
        "INSERT INTO identity_version (source, record_id, version, person_id, recorded_at, fingerprint,
            family_name, given_names, patronymic, mother_maiden_name, birth_date, place_of_birth, rank,
            service_number, unit, power, category, person_to_inform, correspondence_address, id, log_id)
         SELECT source, record_id, 1, person_id, $20, fingerprint, family_name, given_names, patronymic,
            mother_maiden_name, birth_date, place_of_birth, rank, service_number, unit, power, category,
            person_to_inform, correspondence_address, id, log_id
         FROM UNNEST($1::text[], $2::text[], $3::uuid[], $4::bytea[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
            $16::text[], $17::text[], $18::text[], $19::bigint[])
         AS t (source, record_id, person_id, fingerprint, family_name, given_names, patronymic,
            mother_maiden_name, birth_date, place_of_birth, rank, service_number, unit, power, category,
            person_to_inform, correspondence_address, id, log_id)",
    )
    .bind(&sources)
    .bind(&record_ids)
    .bind(&person_ids)
    .bind(records.iter().map(|r| r.fingerprint.to_vec()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.identity.family_name.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.identity.given_names.as_str()).collect::<Vec<_>>())
    .bind(ids(|i| i.patronymic.as_deref()))
    .bind(ids(|i| i.mother_maiden_name.as_deref()))
    .bind(records.iter().map(|r| r.identity.birth_date.map(|d| d.to_string())).collect::<Vec<_>>())
    .bind(ids(|i| i.place_of_birth.as_deref()))
    .bind(ids(|i| i.rank.as_deref()))
    .bind(ids(|i| i.service_number.as_deref()))
    .bind(ids(|i| i.unit.as_deref()))
    .bind(records.iter().map(|r| r.identity.power.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.identity.category.as_str()).collect::<Vec<_>>())
    .bind(sealed.iter().map(|s| s.0.as_deref()).collect::<Vec<_>>())
    .bind(sealed.iter().map(|s| s.1.as_deref()).collect::<Vec<_>>())
    .bind(&identity_ids)
    .bind((0..n).map(|k| log_ids[2 * k]).collect::<Vec<_>>())
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(backend_error)?;

    sqlx::query(
        "INSERT INTO status_event (person_id, seq, status, occurred_on, place, details, reported_by, recorded_at, log_id)
         SELECT person_id, 1, status, occurred_on, place, details, reported_by, $7, log_id
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::bigint[])
         AS t (person_id, status, occurred_on, place, details, reported_by, log_id)",
    )
    .bind(&person_ids)
    .bind(&statuses)
    .bind(records.iter().map(|r| r.first.occurred_on.map(|d| d.to_string())).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.first.place.as_deref()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| seal::seal_details(keys, r.first.details.as_deref())).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.reporter.as_str()).collect::<Vec<_>>())
    .bind(now)
    .bind((0..n).map(|k| log_ids[2 * k + 1]).collect::<Vec<_>>())
    .execute(&mut *c)
    .await
    .map_err(backend_error)?;
    Ok(())
}

/// Log entries as columns, for one `INSERT ... SELECT FROM UNNEST`.
#[derive(Default)]
struct LogEntries {
    id: Vec<i64>,
    role: Vec<String>,
    party: Vec<Option<String>>,
    event_type: Vec<&'static str>,
    record_type: Vec<&'static str>,
    record_id: Vec<String>,
    salt: Vec<Vec<u8>>,
    commitment: Vec<Vec<u8>>,
    mac: Vec<Vec<u8>>,
}

impl LogEntries {
    fn with_capacity(n: usize) -> Self {
        Self {
            id: Vec::with_capacity(n),
            role: Vec::with_capacity(n),
            party: Vec::with_capacity(n),
            event_type: Vec::with_capacity(n),
            record_type: Vec::with_capacity(n),
            record_id: Vec::with_capacity(n),
            salt: Vec::with_capacity(n),
            commitment: Vec::with_capacity(n),
            mac: Vec::with_capacity(n),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "the entry's parts")]
    fn push(
        &mut self,
        log: &Appender,
        id: i64,
        party: &str,
        event_type: &'static str,
        record_type: &'static str,
        record_id: String,
        content: &serde_json::Value,
    ) {
        let actor = log.actor_of(Some(party));
        let (salt, commitment) = hlog::commit(content);
        self.mac.push(log.mac(&actor, event_type, record_type, &record_id, &commitment).to_vec());
        self.id.push(id);
        self.role.push(actor.role);
        self.party.push(actor.party);
        self.event_type.push(event_type);
        self.record_type.push(record_type);
        self.record_id.push(record_id);
        self.salt.push(salt.to_vec());
        self.commitment.push(commitment.to_vec());
    }

    async fn insert(self, c: &mut PgConnection, time_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO log_entry (id, time_ms, actor_role, actor_party, event_type, record_type, record_id, salt, commitment, mac)
             SELECT id, $8, actor_role, actor_party, event_type, record_type, record_id, salt, commitment, mac
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $9::bytea[],
                         $10::bytea[])
             AS t (id, actor_role, actor_party, event_type, record_type, record_id, salt, commitment, mac)",
        )
        .bind(self.id)
        .bind(self.role)
        .bind(self.party)
        .bind(self.event_type)
        .bind(self.record_type)
        .bind(self.record_id)
        .bind(self.salt)
        .bind(time_ms)
        .bind(self.commitment)
        .bind(self.mac)
        .execute(&mut *c)
        .await
        .map_err(backend_error)?;
        Ok(())
    }
}
