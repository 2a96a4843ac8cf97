//! The all-or-nothing import: one `BEGIN IMMEDIATE` transaction on the writer
//! connection, held from the first batch to `finish`.

use std::collections::HashSet;

use async_trait::async_trait;
use homeward_domain::{PersonId, Status};
use homeward_store::{ImportCounts, ImportRow, PersonImport, RowRejection, StoreError};
use rusqlite::Connection;
use tokio::sync::OwnedMutexGuard;

use crate::write::{self, check_parties};
use crate::{backend_error, join_error};

#[derive(Debug)]
pub(crate) struct SqliteImport {
    conn: Option<OwnedMutexGuard<Connection>>,
    parties: HashSet<String>,
    counts: ImportCounts,
}

impl SqliteImport {
    pub(crate) async fn begin(guard: OwnedMutexGuard<Connection>) -> Result<Self, StoreError> {
        tokio::task::spawn_blocking(move || {
            let parties = write::party_codes(&guard)?;
            if parties.is_empty() {
                return Err(StoreError::NoConflict);
            }
            guard.execute_batch("BEGIN IMMEDIATE").map_err(backend_error)?;
            Ok(Self { conn: Some(guard), parties, counts: ImportCounts::default() })
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
    match check_parties(parties, &row.source, &row.identity) {
        Ok(()) => {}
        Err(StoreError::UnknownParty { field, code }) => {
            return reject(field, format!("unknown party code {code}; the conflict's parties are {}", sorted(parties)));
        }
        Err(e) => return Err(e),
    }
    let Some((person, version, fingerprint)) = write::latest_identity(c, &row.source)? else {
        return match &row.status {
            None => reject("status", "a new record needs its first status (for example captured or missing)".into()),
            Some(e) => match Status::check_transition(None, e.status) {
                Ok(()) => Ok(Ok(RowPlan::Create)),
                Err(t) => reject("status", t.to_string()),
            },
        };
    };
    let new_version = (fingerprint.as_slice() != row.identity.fingerprint().as_slice()).then_some(version + 1);
    let mut new_event_seq = None;
    if let Some(e) = &row.status {
        let (current, seq) = write::current_status(c, person)?.ok_or(StoreError::NotFound("person"))?;
        let last = write::event_at(c, person, seq)?;
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

fn write_rows(
    c: &Connection,
    parties: &HashSet<String>,
    counts: &mut ImportCounts,
    rows: Vec<ImportRow>,
) -> Result<Vec<RowRejection>, StoreError> {
    let mut rejections = Vec::new();
    let (_, now) = write::now();
    for row in rows {
        match plan_row(c, parties, &row)? {
            Err(r) => rejections.push(r),
            Ok(RowPlan::Create) => {
                let e = row.status.as_ref().expect("planned with a status");
                let id = PersonId::new();
                write::insert_person(c, id, e.status, &row.source, &now)?;
                write::insert_identity(c, id, &row.source, 1, &now, &row.identity)?;
                write::insert_event(c, id, 1, e, row.reported_by.as_ref().unwrap_or(&row.source.source), &now)?;
                counts.created += 1;
                counts.status_events += 1;
            }
            Ok(RowPlan::Update { person, new_version, new_event_seq }) => {
                if let Some(v) = new_version {
                    write::insert_identity(c, person, &row.source, v, &now, &row.identity)?;
                    counts.amended += 1;
                }
                if let (Some(seq), Some(e)) = (new_event_seq, &row.status) {
                    write::insert_event(
                        c,
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
    Ok(rejections)
}

#[async_trait]
impl PersonImport for SqliteImport {
    async fn write_batch(&mut self, rows: Vec<ImportRow>) -> Result<Vec<RowRejection>, StoreError> {
        let conn = self.conn.take().ok_or_else(|| StoreError::Backend("import already finished".into()))?;
        let parties = std::mem::take(&mut self.parties);
        let mut counts = self.counts;
        let (conn, parties, counts, result) = tokio::task::spawn_blocking(move || {
            let result = write_rows(&conn, &parties, &mut counts, rows);
            (conn, parties, counts, result)
        })
        .await
        .map_err(join_error)?;
        self.conn = Some(conn);
        self.parties = parties;
        self.counts = counts;
        result
    }

    async fn finish(mut self: Box<Self>, commit: bool) -> Result<ImportCounts, StoreError> {
        let conn = self.conn.take().ok_or_else(|| StoreError::Backend("import already finished".into()))?;
        let counts = self.counts;
        tokio::task::spawn_blocking(move || {
            conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" }).map_err(backend_error)
        })
        .await
        .map_err(join_error)??;
        Ok(counts)
    }
}
