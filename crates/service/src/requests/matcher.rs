//! Background matching, durable in the database: each new tracing request
//! against the live registry index, each new or amended person against the
//! requests still searched for. Candidates at or above the threshold are
//! stored with their probability and explanation; a caseworker decides.
//!
//! The key decision: two watermarks in the database (`job_state`) and an
//! idempotent write. `matching.requests` is the filing time (ms) of the
//! newest request searched; `matching.persons` the leaf index up to which
//! registry changes were compared. A watermark moves only after the
//! candidates it covers are stored, and a (request, person) pair is stored
//! once (`add_candidates` ignores a known pair), so a restart at any point
//! redoes the unfinished round and never doubles a candidate.
//!
//! No gap between the two jobs: a person is compared with the requests only
//! once the live index holds it (the persons job never passes the index's
//! watermark), so a request filed later finds it through the index, and a
//! request filed earlier is among those the person is compared with.

use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

use homeward_domain::TracingRequestId;
use homeward_matching::{DEFAULT_THRESHOLD, Explanation, Index};
use homeward_store::{NewCandidate, RequestFilter, Store, StoreError, TracingRequest};
use serde_json::json;

use super::to_match_record;
use crate::matching::{LiveIndex, to_match_record as person_record};

/// The job names in `job_state`.
pub const REQUESTS_JOB: &str = "matching.requests";
pub const PERSONS_JOB: &str = "matching.persons";

/// How many candidates one request keeps from one search.
const CANDIDATES_PER_SEARCH: usize = 10;
/// Leaves compared per round at most.
const PERSON_SLICE: u64 = 20_000;

/// The explanation as stored: `[{"field", "level", "weight"}]`.
pub fn explanation_json(e: &Explanation) -> serde_json::Value {
    json!(
        e.evidence
            .iter()
            .map(|v| json!({"field": v.field.label(), "level": v.level, "weight": (v.weight * 100.0).round() / 100.0}))
            .collect::<Vec<_>>()
    )
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoundReport {
    pub requests_searched: usize,
    pub persons_compared: usize,
    pub candidates_added: usize,
}

/// The background matcher over a store and the live index.
#[derive(Debug, Clone)]
pub struct Matcher {
    store: Arc<dyn Store>,
    index: Arc<LiveIndex>,
    threshold: f64,
}

impl Matcher {
    pub fn new(store: Arc<dyn Store>, index: Arc<LiveIndex>) -> Self {
        Self { store, index, threshold: DEFAULT_THRESHOLD }
    }

    /// One round of both jobs.
    ///
    /// # Errors
    /// The store's error; watermarks stay where the last stored candidates put them.
    pub async fn round(&self) -> Result<RoundReport, StoreError> {
        let mut report = RoundReport::default();
        if !self.index.is_ready() {
            // Searched against part of the registry, a request would miss
            // its person for good (the watermarks move on): wait.
            return Ok(report);
        }
        self.index.catch_up().await?;
        // A round reads only what is new: with nothing new (most seconds) it
        // reads no request, and opens no family's sealed contact.
        self.new_requests(&mut report).await?;
        self.new_persons(&mut report).await?;
        Ok(report)
    }

    /// Each request filed since the watermark, against the whole index.
    async fn new_requests(&self, report: &mut RoundReport) -> Result<(), StoreError> {
        let from = self.store.job_watermark(REQUESTS_JOB).await?;
        // At or after: requests filed in the same millisecond as the last
        // one searched are searched again, harmlessly (pairs are stored once).
        let since = OffsetDateTime::from_unix_timestamp_nanos(i128::from(from) * 1_000_000)
            .map_err(|_| StoreError::Backend(format!("{REQUESTS_JOB}: watermark {from} is not an instant")))?;
        let filter = RequestFilter { searching: true, filed_since: Some(since), ..Default::default() };
        let mut todo = self.store.tracing_requests(&filter).await?;
        todo.sort_by_key(|r| (ms(r), r.id));
        for r in &todo {
            let query = to_match_record(r.id, &r.sought);
            let index = self.index.clone();
            let hits = tokio::task::spawn_blocking(move || index.search(&query, CANDIDATES_PER_SEARCH))
                .await
                .map_err(|_| StoreError::Backend("the search failed".into()))??;
            let candidates: Vec<NewCandidate> = hits
                .into_iter()
                .filter(|h| h.candidate.probability >= self.threshold)
                .map(|h| NewCandidate {
                    person: h.person,
                    probability: h.candidate.probability,
                    explanation: explanation_json(&h.candidate.explanation),
                })
                .collect();
            if !candidates.is_empty() {
                report.candidates_added += self.store.add_candidates(r.id, candidates).await?;
            }
            report.requests_searched += 1;
            self.store.set_job_watermark(REQUESTS_JOB, ms(r)).await?;
        }
        Ok(())
    }

    /// Each identity version indexed since the watermark, against the
    /// requests still searched for.
    async fn new_persons(&self, report: &mut RoundReport) -> Result<(), StoreError> {
        let mut from = u64::try_from(self.store.job_watermark(PERSONS_JOB).await?).unwrap_or(0);
        let upto = self.index.watermark();
        if upto <= from {
            return Ok(());
        }
        let searching = self.store.tracing_requests(&RequestFilter { searching: true, ..Default::default() }).await?;
        if searching.is_empty() {
            // Nothing to compare with; requests filed later search the index.
            self.store.set_job_watermark(PERSONS_JOB, i64::try_from(upto).unwrap_or(i64::MAX)).await?;
            return Ok(());
        }
        let requests = Arc::new(Index::build(searching.iter().map(|r| to_match_record(r.id, &r.sought))));
        while from < upto {
            let to = upto.min(from + PERSON_SLICE);
            let rows = self.store.identities_in_leaves(from, to).await?;
            let idx = requests.clone();
            let threshold = self.threshold;
            let found = tokio::task::spawn_blocking(move || {
                let mut found: Vec<(TracingRequestId, NewCandidate)> = Vec::new();
                for row in &rows {
                    for c in idx.search(&person_record(row), CANDIDATES_PER_SEARCH) {
                        if c.probability < threshold {
                            continue;
                        }
                        let Ok(request) = c.id.parse::<TracingRequestId>() else { continue };
                        found.push((
                            request,
                            NewCandidate {
                                person: row.person_id,
                                probability: c.probability,
                                explanation: explanation_json(&c.explanation),
                            },
                        ));
                    }
                }
                (rows.len(), found)
            })
            .await
            .map_err(|_| StoreError::Backend("matching failed".into()))?;
            report.persons_compared += found.0;
            for (request, candidate) in found.1 {
                report.candidates_added += self.store.add_candidates(request, vec![candidate]).await?;
            }
            self.store.set_job_watermark(PERSONS_JOB, i64::try_from(to).unwrap_or(i64::MAX)).await?;
            from = to;
        }
        Ok(())
    }

    /// Runs rounds until `shutdown` changes: every `every`, or when nudged.
    pub async fn run(
        self,
        every: Duration,
        nudge: Arc<tokio::sync::Notify>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            match self.round().await {
                Ok(r) if r.candidates_added > 0 => tracing::info!(
                    requests = r.requests_searched,
                    persons = r.persons_compared,
                    candidates = r.candidates_added,
                    "matching found candidates"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "background matching failed; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = nudge.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

fn ms(r: &TracingRequest) -> i64 {
    (r.created_at.unix_timestamp_nanos() / 1_000_000) as i64
}
