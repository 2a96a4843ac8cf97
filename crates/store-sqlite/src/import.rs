//! The all-or-nothing import: one `BEGIN IMMEDIATE` transaction on the writer
//! connection, held from the first batch to `finish`.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use homeward_domain::{PersonId, Status};
use homeward_store::{ImportCounts, ImportRow, Keyring, PersonImport, RowRejection, StoreError, seal};
use rusqlite::{Connection, ToSql};
use tokio::sync::OwnedMutexGuard;

use homeward_store::log::{self as hlog, event, record};

use crate::log::Appender;
use crate::status_cache::StatusCache;
use crate::write::{self, check_parties};
use crate::{backend_error, join_error};

#[derive(Debug)]
pub(crate) struct SqliteImport {
    conn: Option<OwnedMutexGuard<Connection>>,
    state: Option<State>,
    /// Told when the import commits.
    statuses: Arc<StatusCache>,
}

/// What the import carries from batch to batch.
#[derive(Debug)]
struct State {
    parties: HashSet<String>,
    counts: ImportCounts,
    log: Appender,
    keys: Arc<Keyring>,
}

/// A larger page cache keeps a big import's pages out of the WAL until commit.
const IMPORT_PRAGMAS: &str = "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -65536;";
const NORMAL_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;";

impl SqliteImport {
    pub(crate) async fn begin(
        guard: OwnedMutexGuard<Connection>,
        keys: Arc<Keyring>,
        statuses: Arc<StatusCache>,
    ) -> Result<Self, StoreError> {
        tokio::task::spawn_blocking(move || {
            let parties = write::party_codes(&guard)?;
            if parties.is_empty() {
                return Err(StoreError::NoConflict);
            }
            // Foreign-key checks are off for the import's transaction only: the
            // import checks every party code against the conflict in code
            // (with a per-row error, which a constraint failure could not
            // give) and writes each person before the rows that point to it,
            // so the checks would repeat work already done, at about a third
            // of the import's cost. Every other write keeps them on.
            guard.execute_batch(IMPORT_PRAGMAS).map_err(backend_error)?;
            guard.execute_batch("BEGIN IMMEDIATE").map_err(backend_error)?;
            let log = Appender::new(&guard, &keys)?;
            Ok(Self {
                conn: Some(guard),
                state: Some(State { parties, counts: ImportCounts::default(), log, keys }),
                statuses,
            })
        })
        .await
        .map_err(join_error)?
    }
}

impl Drop for SqliteImport {
    fn drop(&mut self) {
        // Dropped without finish (an error, a cancelled task): nothing lands.
        if let Some(c) = self.conn.take()
            && !c.is_autocommit()
        {
            let _ = c.execute_batch("ROLLBACK");
            let _ = c.execute_batch(NORMAL_PRAGMAS);
        }
    }
}

/// What one row does, decided before anything is written so that a rejected
/// row writes nothing at all.
pub(crate) enum RowPlan {
    Create,
    Update { person: PersonId, new_version: Option<u32>, new_event_seq: Option<u32> },
}

/// Decides a row against what is stored (including earlier rows of the same
/// import: they are in the same transaction).
pub(crate) fn plan_row(
    c: &Connection,
    parties: &HashSet<String>,
    keys: &Keyring,
    row: &ImportRow,
) -> Result<Result<RowPlan, RowRejection>, StoreError> {
    let reject = |field: &str, reason: String| Ok(Err(RowRejection { line: row.line, field: field.into(), reason }));
    if let Some(by) = &row.reported_by
        && !parties.contains(by.as_str())
    {
        return reject(
            "reported_by",
            format!("unknown party code {by}; the conflict's parties are {}", sorted(parties)),
        );
    }
    match check_parties(parties, &row.source, row.identity()) {
        Ok(()) => {}
        Err(StoreError::UnknownParty { field, code }) => {
            return reject(field, format!("unknown party code {code}; the conflict's parties are {}", sorted(parties)));
        }
        Err(e) => return Err(e),
    }
    let Some((person, version, fingerprint, scheme)) = write::latest_identity(c, &row.source)? else {
        return match &row.status {
            None => reject("status", "a new record needs its first status (for example captured or missing)".into()),
            Some(e) => match Status::check_transition(None, e.status) {
                Ok(()) => Ok(Ok(RowPlan::Create)),
                Err(t) => reject("status", t.to_string()),
            },
        };
    };
    let new_version = (!keys.fingerprint_matches(&fingerprint, scheme, row.canonical())).then_some(version + 1);
    let mut new_event_seq = None;
    if let Some(e) = &row.status {
        let (current, seq) = write::current_status(c, person)?.ok_or(StoreError::NotFound("person"))?;
        let last = write::event_at(c, keys, person, seq)?;
        let same_as_last = last.status == e.status && last.occurred_on == e.occurred_on && last.place == e.place;
        if !same_as_last {
            if let Err(t) = Status::check_transition(Some(current), e.status) {
                return reject("status", t.to_string());
            }
            new_event_seq = Some(seq + 1);
        }
    }
    Ok(Ok(RowPlan::Update { person, new_version, new_event_seq }))
}

fn sorted(parties: &HashSet<String>) -> String {
    let mut v: Vec<&str> = parties.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join(", ")
}

fn write_rows(c: &Connection, state: &mut State, rows: Vec<ImportRow>) -> Result<Vec<RowRejection>, StoreError> {
    let State { parties, counts, log, keys } = state;
    log.time_ms = homeward_store::log::now_ms();
    let mut rejections = Vec::new();
    let (_, now) = write::now();
    // New persons are written in chunks of multi-row INSERTs; a row whose
    // record is waiting in the chunk flushes it first, so that it sees it.
    let mut pending: Vec<(PersonId, &ImportRow)> = Vec::with_capacity(CHUNK);
    let mut pending_keys: HashSet<(&str, &str)> = HashSet::with_capacity(CHUNK);
    for row in &rows {
        if pending_keys.contains(&(row.source.source.as_str(), row.source.record_id.as_str())) {
            insert_new_persons(c, keys, log, &now, &pending)?;
            pending.clear();
            pending_keys.clear();
        }
        match plan_row(c, parties, keys, row)? {
            Err(r) => rejections.push(r),
            Ok(RowPlan::Create) => {
                pending.push((PersonId::new(), row));
                pending_keys.insert((row.source.source.as_str(), row.source.record_id.as_str()));
                counts.created += 1;
                counts.status_events += 1;
                if pending.len() == CHUNK {
                    insert_new_persons(c, keys, log, &now, &pending)?;
                    pending.clear();
                    pending_keys.clear();
                }
            }
            Ok(RowPlan::Update { person, new_version, new_event_seq }) => {
                if let Some(v) = new_version {
                    write::insert_identity(
                        c,
                        keys,
                        log,
                        person,
                        &row.source,
                        v,
                        &now,
                        row.identity(),
                        &keys.fingerprint_canonical(row.canonical()),
                    )?;
                    counts.amended += 1;
                }
                if let (Some(seq), Some(e)) = (new_event_seq, &row.status) {
                    write::insert_event(
                        c,
                        keys,
                        log,
                        person,
                        seq,
                        e,
                        row.reported_by.as_ref().unwrap_or(&row.source.source),
                        &now,
                    )?;
                    counts.status_events += 1;
                }
                if new_version.is_none() && new_event_seq.is_none() {
                    counts.unchanged += 1;
                }
            }
        }
    }
    insert_new_persons(c, keys, log, &now, &pending)?;
    Ok(rejections)
}

/// Rows per multi-row INSERT: one statement per table per chunk instead of
/// one per row (19 columns x 64 rows stays far below SQLite's 32,766
/// parameters).
const CHUNK: usize = 64;

/// The three multi-row INSERTs for a full chunk, built once.
fn chunk_statements() -> &'static [String; 4] {
    static SQL: std::sync::OnceLock<[String; 4]> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let values_n = |cols: usize, rows: usize| {
            let one = format!("({})", vec!["?"; cols].join(","));
            vec![one; rows].join(",")
        };
        let values = |cols: usize| values_n(cols, CHUNK);
        [
            format!(
                "INSERT OR ROLLBACK INTO person (id, status, status_seq, primary_source, primary_record_id, created_at) VALUES {}",
                values(6)
            ),
            format!(
                "INSERT OR ROLLBACK INTO identity_version (source, record_id, version, person_id, recorded_at, fingerprint, \
                 family_name, given_names, patronymic, mother_maiden_name, birth_date, place_of_birth, rank, \
                 service_number, unit, power, category, person_to_inform, correspondence_address, id, log_id) VALUES {}",
                values(21)
            ),
            format!(
                "INSERT OR ROLLBACK INTO status_event (person_id, seq, status, occurred_on, place, details, reported_by, \
                 recorded_at, log_id) VALUES {}",
                values(9)
            ),
            format!(
                "INSERT OR ROLLBACK INTO log_entry (id, time_ms, actor_role, actor_party, event_type, record_type, \
                 record_id, salt, commitment, mac) VALUES {}",
                values_n(10, 2 * CHUNK)
            ),
        ]
    })
}

/// Writes new persons: the person rows, their first identity versions and
/// their first status events, a chunk per statement.
fn insert_new_persons(
    c: &Connection,
    keys: &Keyring,
    log: &mut Appender,
    now: &str,
    rows: &[(PersonId, &ImportRow)],
) -> Result<(), StoreError> {
    if rows.len() < CHUNK {
        // A short tail: single-row statements, so that the statement cache
        // holds one chunk size only.
        for (id, row) in rows {
            let e = row.status.as_ref().expect("planned with a status");
            write::insert_person(c, *id, e.status, &row.source, now)?;
            write::insert_identity(
                c,
                keys,
                log,
                *id,
                &row.source,
                1,
                now,
                row.identity(),
                &keys.fingerprint_canonical(row.canonical()),
            )?;
            write::insert_event(c, keys, log, *id, 1, e, row.reported_by.as_ref().unwrap_or(&row.source.source), now)?;
        }
        return Ok(());
    }
    debug_assert_eq!(rows.len(), CHUNK);
    let sql = chunk_statements();
    let mut person = c.prepare_cached(&sql[0]).map_err(backend_error)?;
    let mut identity = c.prepare_cached(&sql[1]).map_err(backend_error)?;
    let mut event = c.prepare_cached(&sql[2]).map_err(backend_error)?;
    let mut entry = c.prepare_cached(&sql[3]).map_err(backend_error)?;
    let (mut p, mut v, mut ev, mut en) = (0, 0, 0, 0);
    let mut entries = Vec::with_capacity(2 * CHUNK);
    // Binds the next parameter of a statement; parameters are numbered from 1.
    fn bind<T: ToSql>(st: &mut rusqlite::CachedStatement<'_>, k: &mut usize, value: T) -> Result<(), StoreError> {
        *k += 1;
        st.raw_bind_parameter(*k, value).map_err(backend_error)
    }
    for (id, row) in rows {
        let e = row.status.as_ref().expect("planned with a status");
        let i = row.identity();
        let (person_to_inform, correspondence_address) = seal::seal_contacts(keys, i);
        let pid = id.0.as_bytes();
        let reporter = row.reported_by.as_ref().unwrap_or(&row.source.source);
        let version_id = uuid::Uuid::now_v7().to_string();
        let identity_entry = log.prepare(
            Some(row.source.source.as_str()),
            event::PERSON_REGISTERED,
            record::IDENTITY_VERSION,
            &record::identity_id(&version_id),
            &hlog::identity_content(&version_id, *id, &row.source, 1, i),
        );
        let event_entry = log.prepare(
            Some(reporter.as_str()),
            event::STATUS_RECORDED,
            record::STATUS_EVENT,
            &record::status_id(*id, 1),
            &hlog::status_content(*id, 1, e, reporter.as_str()),
        );
        let (identity_log, event_log) = (identity_entry.id, event_entry.id);
        entries.push(identity_entry);
        entries.push(event_entry);
        bind(&mut person, &mut p, pid)?;
        bind(&mut person, &mut p, e.status.as_str())?;
        bind(&mut person, &mut p, 1)?;
        bind(&mut person, &mut p, row.source.source.as_str())?;
        bind(&mut person, &mut p, row.source.record_id.as_str())?;
        bind(&mut person, &mut p, now)?;

        bind(&mut identity, &mut v, row.source.source.as_str())?;
        bind(&mut identity, &mut v, row.source.record_id.as_str())?;
        bind(&mut identity, &mut v, 1)?;
        bind(&mut identity, &mut v, pid)?;
        bind(&mut identity, &mut v, now)?;
        bind(&mut identity, &mut v, keys.fingerprint_canonical(row.canonical()).as_slice())?;
        bind(&mut identity, &mut v, i.family_name.as_str())?;
        bind(&mut identity, &mut v, i.given_names.as_str())?;
        bind(&mut identity, &mut v, i.patronymic.as_deref())?;
        bind(&mut identity, &mut v, i.mother_maiden_name.as_deref())?;
        bind(&mut identity, &mut v, i.birth_date.map(|d| d.to_string()))?;
        bind(&mut identity, &mut v, i.place_of_birth.as_deref())?;
        bind(&mut identity, &mut v, i.rank.as_deref())?;
        bind(&mut identity, &mut v, i.service_number.as_deref())?;
        bind(&mut identity, &mut v, i.unit.as_deref())?;
        bind(&mut identity, &mut v, i.power.as_str())?;
        bind(&mut identity, &mut v, i.category.as_str())?;
        bind(&mut identity, &mut v, person_to_inform.as_deref())?;
        bind(&mut identity, &mut v, correspondence_address.as_deref())?;
        bind(&mut identity, &mut v, version_id.as_str())?;
        bind(&mut identity, &mut v, identity_log)?;

        bind(&mut event, &mut ev, pid)?;
        bind(&mut event, &mut ev, 1)?;
        bind(&mut event, &mut ev, e.status.as_str())?;
        bind(&mut event, &mut ev, e.occurred_on.map(|d| d.to_string()))?;
        bind(&mut event, &mut ev, e.place.as_deref())?;
        bind(&mut event, &mut ev, seal::seal_details(keys, e.details.as_deref()))?;
        bind(&mut event, &mut ev, reporter.as_str())?;
        bind(&mut event, &mut ev, now)?;
        bind(&mut event, &mut ev, event_log)?;
    }
    for e in &entries {
        bind(&mut entry, &mut en, e.id)?;
        bind(&mut entry, &mut en, e.time_ms)?;
        bind(&mut entry, &mut en, e.actor.role.as_str())?;
        bind(&mut entry, &mut en, e.actor.party.as_deref())?;
        bind(&mut entry, &mut en, e.event_type.as_str())?;
        bind(&mut entry, &mut en, e.record_type.as_str())?;
        bind(&mut entry, &mut en, e.record_id.as_str())?;
        bind(&mut entry, &mut en, e.salt.as_slice())?;
        bind(&mut entry, &mut en, e.commitment.as_slice())?;
        bind(&mut entry, &mut en, e.mac.as_slice())?;
    }
    for st in [&mut entry, &mut person, &mut identity, &mut event] {
        st.raw_execute().map_err(backend_error)?;
    }
    Ok(())
}

#[async_trait]
impl PersonImport for SqliteImport {
    async fn write_batch(&mut self, rows: Vec<ImportRow>) -> Result<Vec<RowRejection>, StoreError> {
        let conn = self.conn.take().ok_or_else(|| StoreError::Backend("import already finished".into()))?;
        let mut state = self.state.take().ok_or_else(|| StoreError::Backend("import already finished".into()))?;
        let (conn, state, result) = tokio::task::spawn_blocking(move || {
            let result = write_rows(&conn, &mut state, rows);
            (conn, state, result)
        })
        .await
        .map_err(join_error)?;
        self.conn = Some(conn);
        self.state = Some(state);
        result
    }

    async fn finish(mut self: Box<Self>, commit: bool) -> Result<ImportCounts, StoreError> {
        let conn = self.conn.take().ok_or_else(|| StoreError::Backend("import already finished".into()))?;
        let counts = self.state.take().map(|s| s.counts).unwrap_or_default();
        let statuses = self.statuses.clone();
        tokio::task::spawn_blocking(move || {
            let end = conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" }).map_err(backend_error);
            if commit {
                statuses.changed();
            }
            conn.execute_batch(NORMAL_PRAGMAS).map_err(backend_error)?;
            end
        })
        .await
        .map_err(join_error)??;
        Ok(counts)
    }
}
