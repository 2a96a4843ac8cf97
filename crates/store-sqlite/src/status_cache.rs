//! Persons' current statuses, kept in memory for the status read
//! (`GET /api/v1/persons/{id}/status`, the read parties' programs poll).
//!
//! The key decision is how the cache stays true, since other processes
//! (`homeward import`, `homeward keys rotate`, a second server) write the
//! same file:
//! - every write of this store, committed through its writer connection,
//!   makes every cached status stale at once, before the write returns
//!   ([`StatusCache::changed`]): a read that follows a write of this process
//!   never sees what was there before;
//! - a write by another process is noticed by `PRAGMA data_version` on a
//!   connection of the cache's own, asked at most once per [`RECHECK_EVERY`]
//!   while statuses are being read: a status read reflects every commit
//!   another process finished at least that long before the read began.
//!
//! A status's details (which may say something of a man's health) are
//! kept sealed, as the file stores them, and opened for each answer: the
//! cache holds no plaintext the file does not.
//!
//! "Stale" is a generation number: any change bumps it, and an entry is
//! only kept if no change happened between the start of the read that
//! fetched it and its insertion. The whole cache goes at each change;
//! changes are rare next to status reads (a registration, a report, an
//! import batch), and the cache fills again from the reads that follow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use homeward_domain::PersonId;
use homeward_store::{PersonStatus, StoreError};
use rusqlite::Connection;

use crate::backend_error;

/// How old another process's commit can be and still be missed by a read.
pub(crate) const RECHECK_EVERY: Duration = Duration::from_millis(1);

/// At most this many statuses are kept; the cache empties when it is full.
const CAPACITY: usize = 100_000;

#[derive(Debug)]
pub(crate) struct StatusCache {
    /// Bumped by every change of the file, ours or another process's.
    generation: AtomicU64,
    /// The cache's own connection, for `PRAGMA data_version`, with the value
    /// it gave last.
    watch: Mutex<Watch>,
    /// When the pragma was last asked, in nanoseconds since `started`: read
    /// without the lock, so that a read between two rechecks takes none.
    checked: AtomicU64,
    started: Instant,
    entries: Mutex<Entries>,
}

#[derive(Debug)]
struct Watch {
    conn: Connection,
    data_version: i64,
}

#[derive(Debug, Default)]
struct Entries {
    /// The generation the map's statuses belong to.
    generation: u64,
    map: HashMap<PersonId, PersonStatus>,
}

/// A cache miss's ticket: the generation before the store was read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

impl StatusCache {
    /// A cache over the file that `conn` (a connection of its own) opens.
    pub(crate) fn new(conn: Connection) -> Result<Self, StoreError> {
        let data_version = data_version(&conn)?;
        Ok(Self {
            generation: AtomicU64::new(0),
            watch: Mutex::new(Watch { conn, data_version }),
            // The pragma was just asked, above.
            checked: AtomicU64::new(0),
            started: Instant::now(),
            entries: Mutex::default(),
        })
    }

    /// Every cached status is stale: called after each commit of this store.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The cached status of `id`, or a ticket to [`Self::keep`] what the
    /// store gives. Runs on the calling thread: a hash lookup, and once per
    /// [`RECHECK_EVERY`] one pragma (microseconds, no disk read).
    pub(crate) fn get(&self, id: PersonId) -> Result<Result<PersonStatus, Ticket>, StoreError> {
        self.recheck()?;
        let generation = self.generation.load(Ordering::SeqCst);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.generation != generation {
            entries.map.clear();
            entries.generation = generation;
        }
        Ok(entries.map.get(&id).cloned().ok_or(Ticket(generation)))
    }

    /// Keeps `status`, read from the store after `ticket` was taken, unless
    /// the file changed since.
    pub(crate) fn keep(&self, ticket: Ticket, status: &PersonStatus) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Under the lock: a change after this check makes the entry stale
        // through the generation, like every other.
        if self.generation.load(Ordering::SeqCst) != ticket.0 || entries.generation != ticket.0 {
            return;
        }
        if entries.map.len() >= CAPACITY {
            entries.map.clear();
        }
        entries.map.insert(status.id, status.clone());
    }

    /// Asks the file whether another connection committed, if the last
    /// answer is older than [`RECHECK_EVERY`].
    fn recheck(&self) -> Result<(), StoreError> {
        let every = u64::try_from(RECHECK_EVERY.as_nanos()).unwrap_or(u64::MAX);
        let due = |checked: u64| self.nanos().saturating_sub(checked) >= every;
        if !due(self.checked.load(Ordering::Acquire)) {
            return Ok(());
        }
        let mut watch = self.watch.lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have asked while this one waited for the lock.
        if !due(self.checked.load(Ordering::Acquire)) {
            return Ok(());
        }
        let now = data_version(&watch.conn)?;
        if now != watch.data_version {
            watch.data_version = now;
            self.changed();
        }
        // After the pragma: a commit finished before it is seen by now.
        self.checked.store(self.nanos(), Ordering::Release);
        Ok(())
    }

    fn nanos(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

fn data_version(c: &Connection) -> Result<i64, StoreError> {
    c.prepare_cached("PRAGMA data_version").and_then(|mut st| st.query_row([], |r| r.get(0))).map_err(backend_error)
}

#[cfg(test)]
mod tests {
    use homeward_domain::{PartyCode, Status, StatusEvent};
    use homeward_store::{StatusRecord, StatusSince};
    use time::OffsetDateTime;

    use super::*;

    fn status(id: PersonId, status: Status) -> PersonStatus {
        let party = PartyCode::parse("A").unwrap();
        let at = OffsetDateTime::UNIX_EPOCH;
        PersonStatus {
            id,
            status,
            power: party.clone(),
            source: party.clone(),
            since: StatusSince { seq: 1, occurred_on: None, recorded_at: at },
            last: StatusRecord { seq: 1, event: StatusEvent::new(status), reported_by: party, recorded_at: at },
        }
    }

    fn cache() -> StatusCache {
        StatusCache::new(Connection::open_in_memory().unwrap()).unwrap()
    }

    /// What a read fetched is kept only if nothing changed since its ticket;
    /// a change makes everything kept stale.
    #[test]
    fn a_status_is_kept_only_if_nothing_changed_since_it_was_read() {
        let (c, id) = (cache(), PersonId::new());
        let ticket = c.get(id).unwrap().unwrap_err();
        c.keep(ticket, &status(id, Status::Held));
        assert_eq!(c.get(id).unwrap().map(|s| s.status).ok(), Some(Status::Held));

        c.changed();
        let ticket = c.get(id).unwrap().expect_err("stale after a change");
        // A change between the read and its keeping: not kept.
        c.changed();
        c.keep(ticket, &status(id, Status::Held));
        assert!(c.get(id).unwrap().is_err());
    }

    /// What the cache holds of a status's details is the sealed text the
    /// file holds; the answer has them opened.
    #[tokio::test]
    async fn details_are_kept_sealed_and_answered_open() {
        use homeward_domain::SourceRef;
        use homeward_store::{NewPerson, Store};
        use homeward_store_conformance::{code, identity, setup};

        let dir = std::env::temp_dir().join(format!("hw-status-cache-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = crate::SqliteStore::open(dir.join("homeward.db")).await.unwrap();
        store.set_conflict(&setup()).await.unwrap();
        let first =
            StatusEvent { details: Some("shrapnel wound, left arm".into()), ..StatusEvent::new(Status::Captured) };
        let id = store
            .add_person(NewPerson {
                source: SourceRef { source: code("A"), record_id: "c-1".into() },
                identity: identity("Коваленко", "Олександр"),
                first_status: first.clone(),
            })
            .await
            .unwrap();
        for _ in 0..2 {
            assert_eq!(store.person_status(id).await.unwrap().unwrap().last.event, first);
        }
        let kept = store.statuses.entries.lock().unwrap().map.get(&id).unwrap().last.event.details.clone().unwrap();
        assert!(kept.starts_with("hw1:") && !kept.contains("shrapnel"), "{kept}");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A full cache starts again rather than growing.
    #[test]
    fn the_cache_holds_at_most_its_capacity() {
        let c = cache();
        for _ in 0..CAPACITY + 10 {
            let id = PersonId::new();
            let ticket = c.get(id).unwrap().unwrap_err();
            c.keep(ticket, &status(id, Status::Held));
        }
        let kept = c.entries.lock().unwrap().map.len();
        assert!((1..=CAPACITY).contains(&kept), "{kept}");
    }
}
