//! The all-or-nothing import: one transaction, held from the first batch to `finish`.

use std::collections::HashSet;

use async_trait::async_trait;
use homeward_domain::{PersonId, SourceRef, Status, StatusEvent};
use homeward_store::{ImportCounts, ImportRow, Keyring, PersonImport, RowRejection, StoreError};
use sqlx::{PgPool, Postgres, Transaction};

use crate::import_batch::{self, NewRecord};
use crate::{backend_error, check_parties, now, party_codes, rows};

#[derive(Debug)]
pub(crate) struct PgImport {
    tx: Option<Transaction<'static, Postgres>>,
    parties: HashSet<String>,
    counts: ImportCounts,
    keys: std::sync::Arc<Keyring>,
}

impl PgImport {
    pub(crate) async fn begin(pool: &PgPool, keys: std::sync::Arc<Keyring>) -> Result<Self, StoreError> {
        let mut tx = pool.begin().await.map_err(backend_error)?;
        let parties = party_codes(&mut tx).await?;
        if parties.is_empty() {
            return Err(StoreError::NoConflict);
        }
        Ok(Self { tx: Some(tx), parties, counts: ImportCounts::default(), keys })
    }
}

/// Whether a row's status is the person's latest event again (a re-import
/// of the same list), not a new one: same status, date and place.
fn reports_again(last: &StatusEvent, e: &StatusEvent) -> bool {
    last.status == e.status && last.occurred_on == e.occurred_on && last.place == e.place
}

fn sorted(parties: &HashSet<String>) -> String {
    let mut v: Vec<&str> = parties.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join(", ")
}

#[async_trait]
impl PersonImport for PgImport {
    async fn write_batch(&mut self, batch: Vec<ImportRow>) -> Result<Vec<RowRejection>, StoreError> {
        let tx = self.tx.as_mut().ok_or_else(|| StoreError::Backend("import already finished".into()))?;
        let mut rejections = Vec::new();
        let now = now();
        let log = crate::log::Appender::new(tx, &self.keys).await?;
        // Source records new to the store are written together, a batch at
        // a time (`import_batch`); any other row, and a record's second row in
        // the same batch, is written alone after them, so the log keeps the
        // file's order.
        let latest = {
            let sources: Vec<&SourceRef> = batch.iter().map(|r| &r.source).collect();
            import_batch::latest_identities(tx, &sources).await?
        };
        // And a known record's row that changes nothing (same identity, same
        // latest status) is only counted, unless an earlier row of this batch
        // wrote to its person (another source's record of the same man).
        let last_events = {
            let persons: Vec<PersonId> = latest.values().map(|l| l.0).collect();
            import_batch::latest_events(tx, &self.keys, &persons).await?
        };
        let mut written: HashSet<PersonId> = HashSet::new();
        let mut seen: HashSet<(String, String)> = HashSet::with_capacity(batch.len());
        let mut new_records: Vec<NewRecord> = Vec::new();
        for row in batch {
            let reject = |field: &str, reason: String| RowRejection { line: row.line, field: field.into(), reason };
            if let Some(by) = &row.reported_by
                && !self.parties.contains(by.as_str())
            {
                rejections.push(reject(
                    "reported_by",
                    format!("unknown party code {by}; the conflict's parties are {}", sorted(&self.parties)),
                ));
                continue;
            }
            let reporter = row.reported_by.as_ref().unwrap_or(&row.source.source);
            match check_parties(&self.parties, &row.source, row.identity()) {
                Ok(()) => {}
                Err(StoreError::UnknownParty { field, code }) => {
                    rejections.push(reject(
                        field,
                        format!("unknown party code {code}; the conflict's parties are {}", sorted(&self.parties)),
                    ));
                    continue;
                }
                Err(e) => return Err(e),
            }
            let key = (row.source.source.as_str().to_owned(), row.source.record_id.clone());
            let first_in_batch = seen.insert(key.clone());
            let known = if first_in_batch {
                latest.get(&key).cloned()
            } else {
                // Its earlier row may be among the waiting ones.
                import_batch::write_new(tx, &self.keys, &log, now, &std::mem::take(&mut new_records)).await?;
                rows::latest_identity(tx, &row.source).await?
            };
            if let Some((person, _, fingerprint, scheme)) = &known
                && first_in_batch
                && !written.contains(person)
                && self.keys.fingerprint_matches(fingerprint, *scheme, row.canonical())
                && row
                    .status
                    .as_ref()
                    .is_none_or(|e| last_events.get(person).is_some_and(|last| reports_again(last, e)))
            {
                self.counts.unchanged += 1;
                continue;
            }
            if let Some((person, ..)) = &known {
                written.insert(*person);
                import_batch::write_new(tx, &self.keys, &log, now, &std::mem::take(&mut new_records)).await?;
            }
            match known {
                None => {
                    let Some(e) = &row.status else {
                        rejections.push(reject(
                            "status",
                            "a new record needs its first status (for example captured or missing)".into(),
                        ));
                        continue;
                    };
                    if let Err(t) = Status::check_transition(None, e.status) {
                        rejections.push(reject("status", t.to_string()));
                        continue;
                    }
                    new_records.push(NewRecord {
                        fingerprint: self.keys.fingerprint_canonical(row.canonical()),
                        identity: row.identity().clone(),
                        first: e.clone(),
                        reporter: reporter.clone(),
                        source: row.source.clone(),
                    });
                    self.counts.created += 1;
                    self.counts.status_events += 1;
                }
                Some((person, version, fingerprint, scheme)) => {
                    let changed = !self.keys.fingerprint_matches(&fingerprint, scheme, row.canonical());
                    let mut new_seq = None;
                    if let Some(e) = &row.status {
                        let (current, seq) =
                            rows::current_status_for_update(tx, person).await?.ok_or(StoreError::NotFound("person"))?;
                        let last = rows::event_at(tx, &self.keys, person, seq).await?;
                        if !reports_again(&last, e) {
                            if let Err(t) = Status::check_transition(Some(current), e.status) {
                                rejections.push(reject("status", t.to_string()));
                                continue;
                            }
                            new_seq = Some(seq + 1);
                        }
                    }
                    if changed {
                        rows::insert_identity(
                            tx,
                            &self.keys,
                            &log,
                            person,
                            &row.source,
                            version + 1,
                            now,
                            row.identity(),
                            &self.keys.fingerprint_canonical(row.canonical()),
                        )
                        .await?;
                        self.counts.amended += 1;
                    }
                    if let (Some(seq), Some(e)) = (new_seq, &row.status) {
                        rows::insert_event(tx, &self.keys, &log, person, seq, e, reporter, now).await?;
                        self.counts.status_events += 1;
                    }
                    if !changed && new_seq.is_none() {
                        self.counts.unchanged += 1;
                    }
                }
            }
        }
        import_batch::write_new(tx, &self.keys, &log, now, &new_records).await?;
        Ok(rejections)
    }

    async fn finish(mut self: Box<Self>, commit: bool) -> Result<ImportCounts, StoreError> {
        let tx = self.tx.take().ok_or_else(|| StoreError::Backend("import already finished".into()))?;
        if commit {
            tx.commit().await.map_err(backend_error)?;
        } else {
            tx.rollback().await.map_err(backend_error)?;
        }
        Ok(self.counts)
    }
}
