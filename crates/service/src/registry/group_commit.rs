//! Group commit of access-log entries: concurrent reads share one
//! transaction (one WAL append on SQLite, one fsync on PostgreSQL) instead
//! of one each.
//!
//! No entry is acknowledged before it is written, and no record is returned
//! before its entry is acknowledged, so nothing can be lost on shutdown or
//! crash: a read waits for the transaction that holds its entry. There is no
//! timer and no background task: whoever takes the writer's turn writes
//! everything queued up to then (the entries of the reads that arrived while
//! the previous transaction was committing), and wakes their readers. One
//! read alone is written at once, as before.

use std::sync::{Arc, Mutex, PoisonError};

use homeward_store::{AccessEntry, AccessLogStore, StoreError};
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

/// How many times the writer yields at most while its group grows.
const MAX_YIELDS: usize = 4;

#[derive(Debug)]
pub(super) struct GroupCommit {
    access: Arc<dyn AccessLogStore>,
    /// Entries waiting for a writer, with who is waiting for each group.
    queue: Mutex<Queue>,
    /// The writer's turn: one transaction at a time.
    turn: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Queue {
    entries: Vec<AccessEntry>,
    waiters: Vec<Waiter>,
}

impl GroupCommit {
    pub(super) fn new(access: Arc<dyn AccessLogStore>) -> Self {
        Self { access, queue: Mutex::default(), turn: tokio::sync::Mutex::new(()) }
    }

    /// Returns once `entries` are committed (in this call's transaction or
    /// in another caller's).
    pub(super) async fn record(&self, entries: Vec<AccessEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.entries.extend(entries);
            q.waiters.push(tx);
        }
        let mut rx = rx;
        tokio::select! {
            biased;
            // Written by another caller's transaction meanwhile.
            result = &mut rx => return answer(result),
            _turn = self.turn.lock() => {
            // Let the requests already running queue their entries first: a
            // bigger group for the same commit. Yield while the group still
            // grows (each yield runs the tasks ready on this thread, which
            // may read and queue), a few times at most.
            let waiting = || self.queue.lock().unwrap_or_else(PoisonError::into_inner).waiters.len();
            let mut seen = waiting();
            for _ in 0..MAX_YIELDS {
                tokio::task::yield_now().await;
                let now = waiting();
                if now == seen {
                    break;
                }
                seen = now;
            }
            // Everything queued: at most one group per request in flight.
            let Queue { entries: batch, waiters } =
                std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
            if !waiters.is_empty() {
                let result = self.access.record_access(&batch).await.map_err(|e| e.to_string());
                for w in waiters {
                    // A reader that went away no longer waits; its entry is written all the same.
                    let _ = w.send(result.clone());
                }
            }
            }
        }
        answer(rx.await)
    }
}

fn answer(result: Result<Result<(), String>, oneshot::error::RecvError>) -> Result<(), StoreError> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StoreError::Backend(format!("access log: {e}"))),
        // The writer holding this entry was cancelled mid-write: the read fails.
        Err(_) => Err(StoreError::Backend("access log: the write was cancelled".into())),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use homeward_domain::PersonId;
    use homeward_store::{AccessQuery, AccessRecord, UserId};
    use time::OffsetDateTime;

    use super::*;

    /// Counts transactions and entries; each transaction takes 5 ms.
    #[derive(Debug, Default)]
    struct Slow {
        transactions: AtomicUsize,
        entries: Mutex<Vec<AccessEntry>>,
    }

    #[async_trait::async_trait]
    impl AccessLogStore for Slow {
        async fn record_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.transactions.fetch_add(1, Ordering::SeqCst);
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
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_reads_share_transactions_and_every_entry_is_written_before_the_answer() {
        let slow = Arc::new(Slow::default());
        let group = Arc::new(GroupCommit::new(slow.clone()));
        let tasks: Vec<_> = (0..200u128)
            .map(|i| {
                let (group, slow) = (group.clone(), slow.clone());
                tokio::spawn(async move {
                    group.record(vec![entry(i), entry(1000 + i)]).await.unwrap();
                    // Acknowledged means written.
                    let written = slow.entries.lock().unwrap();
                    assert!(written.contains(&entry(i)) && written.contains(&entry(1000 + i)));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(slow.entries.lock().unwrap().len(), 400);
        let transactions = slow.transactions.load(Ordering::SeqCst);
        assert!(transactions < 100, "{transactions} transactions for 200 concurrent reads");
        // One read alone is written at once.
        group.record(vec![entry(5000)]).await.unwrap();
        assert_eq!(slow.transactions.load(Ordering::SeqCst), transactions + 1);
    }
}
