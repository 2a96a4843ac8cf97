//! The access log's writer: a read's entry is queued and the read answered
//! at once; a task commits what is queued every [`COMMIT_EVERY`], many
//! reads in one transaction.
//!
//! The key decision, and what it costs. Until 2026-11-28 a read was answered
//! only after the transaction holding its entry committed (group commit).
//! With a fixed number of requests in flight, a group could never hold more
//! than those requests, so each status read paid for a good part of a
//! commit and for the wake-ups around it: about a fifth of its CPU time,
//! and the reason the status read stayed under half of the server's
//! ceiling (bench/api.sh). Answering first and committing every
//! millisecond lets one commit carry every read of that millisecond. What
//! it gives up, and what it keeps:
//! - a crash or kill of the server loses the entries of the reads answered
//!   in about its last millisecond (before, none; a power cut already lost
//!   up to a second on SQLite, whose access file is synced once a second);
//! - no read is answered while the log cannot be written: after a failed
//!   commit, reads answer 503 until a retry (every [`RETRY_EVERY`])
//!   succeeds; the entries already queued are kept, in order, and written
//!   then (fail closed, nothing dropped);
//! - memory is bounded: past [`MAX_QUEUED`] waiting entries a read waits
//!   for the writer before it is answered;
//! - a stopping server writes everything queued before it exits, and the
//!   mediator's view of the log writes everything queued before it reads
//!   ([`AccessWriter::flush`]), so it lists every read answered before it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use homeward_store::{AccessEntry, AccessLogStore, StoreError};
use tokio::sync::Notify;

/// How long entries wait to share a commit.
pub(super) const COMMIT_EVERY: Duration = Duration::from_millis(1);
/// How long after a failed commit the writer tries again.
pub(super) const RETRY_EVERY: Duration = Duration::from_millis(500);
/// Waiting entries beyond which reads wait for the writer.
pub(super) const MAX_QUEUED: usize = 100_000;

/// Why reads are refused while the log cannot be written.
const FAILING: &str = "the access log cannot be written";

#[derive(Debug)]
pub(super) struct AccessWriter {
    access: Arc<dyn AccessLogStore>,
    max_queued: usize,
    state: Mutex<State>,
    /// Told after every commit, failed or not: flushers and reads held back.
    committed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// Entries not yet handed to a commit, oldest first.
    queue: Vec<AccessEntry>,
    /// Entries in the commit running now.
    in_flight: usize,
    /// A writer task is running (it ends when it finds nothing queued).
    writing: bool,
    /// The last commit failed: reads are refused until one succeeds.
    failing: bool,
}

impl AccessWriter {
    pub(super) fn new(access: Arc<dyn AccessLogStore>) -> Self {
        Self::with_limit(access, MAX_QUEUED)
    }

    pub(super) fn with_limit(access: Arc<dyn AccessLogStore>, max_queued: usize) -> Self {
        Self { access, max_queued, state: Mutex::default(), committed: Notify::new() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `entries`; returns once they are queued (not yet committed).
    /// Refused while the log cannot be written.
    pub(super) async fn record(self: &Arc<Self>, entries: Vec<AccessEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        loop {
            let committed = self.committed.notified();
            tokio::pin!(committed);
            {
                let mut s = self.state();
                if s.failing {
                    return Err(StoreError::Unavailable(FAILING));
                }
                if s.queue.len() < self.max_queued {
                    s.queue.extend(entries);
                    if !s.writing {
                        s.writing = true;
                        tokio::spawn(self.clone().write_out());
                    }
                    return Ok(());
                }
                // Full: wait for a commit, registered before the lock goes.
                committed.as_mut().enable();
            }
            committed.await;
        }
    }

    /// Returns once every entry queued before the call is committed, or
    /// with the error if the log cannot be written now.
    pub(super) async fn flush(&self) -> Result<(), StoreError> {
        loop {
            let committed = self.committed.notified();
            tokio::pin!(committed);
            {
                let s = self.state();
                if s.failing {
                    return Err(StoreError::Unavailable(FAILING));
                }
                if s.queue.is_empty() && s.in_flight == 0 {
                    return Ok(());
                }
                committed.as_mut().enable();
            }
            committed.await;
        }
    }

    /// The writer task: every [`COMMIT_EVERY`], commits everything queued;
    /// ends when nothing is.
    async fn write_out(self: Arc<Self>) {
        loop {
            tokio::time::sleep(COMMIT_EVERY).await;
            let batch = {
                let mut s = self.state();
                if s.queue.is_empty() {
                    s.writing = false;
                    return;
                }
                let batch = std::mem::take(&mut s.queue);
                s.in_flight = batch.len();
                batch
            };
            let result = self.access.record_access(&batch).await;
            let waiting = batch.len();
            {
                let mut s = self.state();
                s.in_flight = 0;
                s.failing = result.is_err();
                if s.failing {
                    // Back in front of what came meanwhile: order kept, nothing lost.
                    let later = std::mem::replace(&mut s.queue, batch);
                    s.queue.extend(later);
                }
            }
            self.committed.notify_waiters();
            if let Err(e) = result {
                tracing::error!(error = %e, waiting, "the access log cannot be written; reads are refused until it can");
                tokio::time::sleep(RETRY_EVERY).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use homeward_domain::PersonId;
    use homeward_store::{AccessQuery, AccessRecord, UserId};
    use time::OffsetDateTime;

    use super::*;

    /// Counts transactions and keeps entries in commit order; each
    /// transaction takes 2 ms; the first `fail` transactions fail.
    #[derive(Debug, Default)]
    struct Slow {
        transactions: AtomicUsize,
        fail: AtomicUsize,
        entries: Mutex<Vec<AccessEntry>>,
    }

    #[async_trait::async_trait]
    impl AccessLogStore for Slow {
        async fn record_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
            tokio::time::sleep(Duration::from_millis(2)).await;
            self.transactions.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) > 0 {
                self.fail.fetch_sub(1, Ordering::SeqCst);
                return Err(StoreError::Backend("disk full".into()));
            }
            self.entries.lock().unwrap().extend_from_slice(entries);
            Ok(())
        }
        async fn access_log(&self, _: &AccessQuery) -> Result<Vec<AccessRecord>, StoreError> {
            Ok(Vec::new())
        }
    }

    fn entry(i: u128) -> AccessEntry {
        AccessEntry {
            at: OffsetDateTime::UNIX_EPOCH,
            user: UserId(uuid::Uuid::from_u128(1)),
            role: "mediator".into(),
            person: PersonId(uuid::Uuid::from_u128(i)),
            endpoint: "/api/v1/persons/{id}".into(),
            outcome: homeward_store::AccessOutcome::Shown,
        }
    }

    fn written(slow: &Slow) -> Vec<AccessEntry> {
        slow.entries.lock().unwrap().clone()
    }

    /// Reads are answered before their entries are committed; every entry
    /// is committed, in the order the reads were answered, many reads to a
    /// transaction, and soon: a flush returns once all are.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_are_answered_at_once_and_every_entry_is_committed_in_order_and_soon() {
        let slow = Arc::new(Slow::default());
        let writer = Arc::new(AccessWriter::new(slow.clone()));
        let started = std::time::Instant::now();
        for i in 0..300u128 {
            writer.record(vec![entry(i), entry(1000 + i)]).await.unwrap();
        }
        assert!(written(&slow).len() < 600, "answered before all were committed");
        writer.flush().await.unwrap();
        let expected: Vec<_> = (0..300u128).flat_map(|i| [entry(i), entry(1000 + i)]).collect();
        assert_eq!(written(&slow), expected);
        let transactions = slow.transactions.load(Ordering::SeqCst);
        assert!(transactions < 50, "{transactions} transactions for 300 reads");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

        // A read alone is committed within a few milliseconds, unasked.
        writer.record(vec![entry(5000)]).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while written(&slow).len() < 601 {
            assert!(std::time::Instant::now() < deadline, "a lone entry was not committed");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// While the log cannot be written reads are refused (503), and the
    /// entries already queued are written once it can, in order, once each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_are_refused_while_the_log_fails_and_nothing_queued_is_lost() {
        let slow = Arc::new(Slow::default());
        slow.fail.store(2, Ordering::SeqCst);
        let writer = Arc::new(AccessWriter::new(slow.clone()));
        writer.record(vec![entry(1), entry(2)]).await.unwrap();
        // The first commit fails: reads are refused, the flush says why.
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        loop {
            match writer.record(vec![entry(3)]).await {
                Err(StoreError::Unavailable(_)) => break,
                Ok(()) => {}
                Err(e) => panic!("{e}"),
            }
            assert!(std::time::Instant::now() < deadline, "reads still answered after a failed commit");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(matches!(writer.flush().await, Err(StoreError::Unavailable(_))));
        assert!(written(&slow).is_empty());
        // Two failures, then the retry succeeds: reads are answered again.
        let deadline = std::time::Instant::now() + 4 * RETRY_EVERY;
        while writer.record(vec![entry(4)]).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "reads refused after the log recovered");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        writer.flush().await.unwrap();
        // 1 and 2, then the reads of 3 answered before the failure was
        // known (the refused ones are not logged: they were not answered),
        // then 4: in order, once each.
        let got: Vec<u128> = written(&slow).iter().map(|e| e.person.0.as_u128()).collect();
        assert_eq!((&got[..2], got.last()), (&[1, 2][..], Some(&4)), "{got:?}");
        assert!(got[2..got.len() - 1].iter().all(|&i| i == 3), "{got:?}");
    }

    /// Past the limit of waiting entries a read waits for the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_holds_reads_back_until_the_writer_catches_up() {
        let slow = Arc::new(Slow::default());
        let writer = Arc::new(AccessWriter::with_limit(slow.clone(), 10));
        writer.record((0..10).map(entry).collect()).await.unwrap();
        // The queue is full: this read is answered only after a commit.
        writer.record(vec![entry(10)]).await.unwrap();
        assert!(written(&slow).len() >= 10, "answered before the writer caught up");
        writer.flush().await.unwrap();
        assert_eq!(written(&slow), (0..11).map(entry).collect::<Vec<_>>());
    }
}
